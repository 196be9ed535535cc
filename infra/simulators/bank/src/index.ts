import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createLogger, type Logger } from '@analytica/logger';
import { createHttpService } from '@analytica/service';
import { BankError, createBank, type Account, type AccountSpec, type Bank, type BankSnapshot, type PaymentOrder, type PaymentResult } from './bank.js';
import { seededRandom } from '@analytica/random';
import { createBehaviour, type BehaviourSettings } from './behaviour.js';
import { FAILURE_KINDS, type BankEnv, type FailureKind } from './environment.js';

export { bankEnvShape, parseBankEnv, type BankEnv } from './environment.js';
export type { Account, Booking, PaymentResult } from './bank.js';

const publicAccount = (a: Account) => ({
  accountId: a.accountId,
  iban: a.iban,
  name: a.name,
  holderName: a.holderName,
  currency: a.currency,
  status: a.status,
});

const paymentBody = (r: PaymentResult) =>
  r.status === 'EXECUTED'
    ? { paymentId: r.paymentId, status: r.status, amount: r.order.amount, debtorAccountId: r.order.debtorAccountId, bookedAt: r.bookedAt }
    : { paymentId: r.paymentId, status: r.status, amount: r.order.amount, debtorAccountId: r.order.debtorAccountId, code: r.code, message: r.message };

/**
 * The bank simulator: an open-banking style HTTP API (account-access consents, accounts, balances,
 * payment orders idempotent by key) with a latency distribution and injected failures, plus a
 * `/sandbox` API for tests (set a customer's accounts, read bookings, change the behaviour).
 */
export async function startBankSimulator(env: BankEnv) {
  const logger = createLogger('bank-simulator', env.LOG_LEVEL);
  const state = env.BANK_STATE_FILE ? await stateFile(env.BANK_STATE_FILE, logger) : undefined;
  const bank = createBank({ defaultBalanceMinor: env.BANK_DEFAULT_BALANCE_MINOR, snapshot: state?.snapshot, onChange: () => state?.changed() });
  state?.attach(bank);
  const behaviour = createBehaviour(
    {
      latencyMedianMs: env.BANK_LATENCY_MEDIAN_MS,
      latencyP99Ms: env.BANK_LATENCY_P99_MS,
      failureRate: env.BANK_FAILURE_RATE,
      failureKinds: env.BANK_FAILURE_KINDS,
      hangMs: env.BANK_HANG_MS,
    },
    env.BANK_RANDOM_SEED === undefined ? Math.random : seededRandom(env.BANK_RANDOM_SEED),
  );
  const injected = Object.fromEntries(FAILURE_KINDS.map((k) => [k, 0])) as Record<FailureKind, number>;
  // Held responses of `timeout` failures; released at once on stop so that shutdown is quick.
  const hanging = new Set<() => void>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        hanging.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      hanging.add(release);
    });

  const handle = (route: (req: Request, res: Response) => unknown) => async (req: Request, res: Response, next: NextFunction) => {
    try {
      await route(req, res);
    } catch (error) {
      if (error instanceof BankError) res.status(error.status).json({ code: error.code, message: error.message });
      else next(error);
    }
  };

  /** Picks this call's failure; `unavailable` answers 503 at once and stops the call. */
  function injectFailure(res: Response): FailureKind | null | 'answered' {
    const failure = behaviour.failure();
    if (failure) injected[failure]++;
    if (failure === 'unavailable') {
      res.status(503).json({ code: 'TEMPORARILY_UNAVAILABLE', message: 'The bank is busy; try again later.' });
      return 'answered';
    }
    return failure;
  }

  const routes = (app: express.Express) => {
    const api = express.Router();
    api.use(express.json({ limit: '64kb' }));
    api.use(async (_req, _res, next) => {
      await wait(behaviour.latencyMs());
      next();
    });

    api.post(
      '/consents',
      handle((req, res) => {
        const { customerId, bankName } = (req.body ?? {}) as { customerId?: string; bankName?: string };
        const { consent, accounts } = bank.createConsent(String(customerId ?? ''), String(bankName ?? ''));
        res.status(201).json({ ...consent, accounts: accounts.map(publicAccount) });
      }),
    );
    api.get(
      '/consents/:consentId/accounts',
      handle((req, res) => {
        res.json({ accounts: bank.consentAccounts(String(req.params.consentId)).map(publicAccount) });
      }),
    );
    api.delete(
      '/consents/:consentId',
      handle((req, res) => {
        bank.revokeConsent(String(req.params.consentId));
        res.status(204).end();
      }),
    );
    api.get(
      '/accounts/:accountId/balances',
      handle((req, res) => {
        const balance = bank.balance(String(req.header('consent-id') ?? ''), String(req.params.accountId));
        res.json({ accountId: req.params.accountId, balances: [{ type: 'available', amount: balance }] });
      }),
    );
    api.post(
      '/payments',
      handle(async (req, res) => {
        const failure = injectFailure(res);
        if (failure === 'answered') return;
        const body = (req.body ?? {}) as Partial<{ debtorAccountId: string; amount: { amountMinor: number; currency: string }; creditorName: string; reference: string }>;
        const order: PaymentOrder = {
          debtorAccountId: String(body.debtorAccountId ?? ''),
          amount: { amountMinor: Number(body.amount?.amountMinor), currency: String(body.amount?.currency ?? '') },
          creditorName: String(body.creditorName ?? ''),
          reference: String(body.reference ?? ''),
        };
        const { result, replayed } = bank.submitPayment(String(req.header('idempotency-key') ?? ''), String(req.header('consent-id') ?? ''), order);
        if (failure === 'error-after-apply') {
          res.status(500).json({ code: 'INTERNAL_ERROR', message: 'Something went wrong at the bank.' });
          return;
        }
        if (failure === 'timeout') await wait(behaviour.settings.hangMs);
        if (replayed) res.setHeader('idempotent-replayed', 'true');
        res.status(result.status === 'EXECUTED' ? (replayed ? 200 : 201) : 422).json(paymentBody(result));
      }),
    );
    api.get(
      '/payments/by-idempotency-key/:key',
      handle(async (req, res) => {
        const failure = injectFailure(res);
        if (failure === 'answered') return;
        if (failure === 'timeout') await wait(behaviour.settings.hangMs);
        const result = bank.paymentByKey(String(req.params.key));
        if (!result) {
          res.status(404).json({ code: 'PAYMENT_NOT_FOUND', message: 'No payment order was received with this key.' });
          return;
        }
        res.json(paymentBody(result));
      }),
    );
    app.use('/v1', api);

    const sandbox = express.Router();
    sandbox.use(express.json({ limit: '1mb' }));
    sandbox.put(
      '/customers/:customerId',
      handle((req, res) => {
        const { name, accounts } = (req.body ?? {}) as { name?: string; accounts?: AccountSpec[] };
        if (!Array.isArray(accounts)) throw new BankError(400, 'ACCOUNTS_REQUIRED', 'Send { name, accounts: [{ name, currency, balanceMinor, status? }] }.');
        res.json({
          accounts: bank.setCustomer(String(req.params.customerId), name ?? 'Sandbox Customer', accounts).map((a) => ({ ...publicAccount(a), balanceMinor: a.balanceMinor })),
        });
      }),
    );
    sandbox.patch(
      '/accounts/:accountId',
      handle((req, res) => {
        res.json(bank.updateAccount(String(req.params.accountId), (req.body ?? {}) as { status?: 'OPEN' | 'CLOSED'; balanceMinor?: number }));
      }),
    );
    sandbox.get('/bookings', (req, res) => {
      res.json({ bookings: bank.bookings({ customerId: typeof req.query.customerId === 'string' ? req.query.customerId : undefined }) });
    });
    sandbox.get('/stats', (_req, res) => {
      res.json({ ...bank.stats(), injectedFailures: injected });
    });
    sandbox.get('/behaviour', (_req, res) => {
      res.json(behaviour.settings);
    });
    sandbox.put('/behaviour', (req, res) => {
      res.json(behaviour.update((req.body ?? {}) as Partial<BehaviourSettings>));
    });
    app.use('/sandbox', sandbox);
  };

  const service = createHttpService({
    name: 'bank-simulator',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    readiness: {},
    routes,
    beforeDrain: async () => {
      for (const release of [...hanging]) release();
    },
    onStop: async () => {
      await state?.flush();
    },
  });
  const running = await service.start();
  return { ...running, bank, behaviour };
}

/**
 * Keeps the books in a JSON file: read at start, written (atomically, by rename) shortly after each
 * change and on stop, so that consents and idempotency keys survive a restart of the embedded mode.
 */
async function stateFile(file: string, logger: Logger) {
  let snapshot: BankSnapshot | undefined;
  try {
    snapshot = JSON.parse(await readFile(file, 'utf8')) as BankSnapshot;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn({ err: error, file }, 'bank state unreadable; starting empty');
  }
  let bank: Bank | undefined;
  let timer: NodeJS.Timeout | undefined;
  let writing = Promise.resolve();
  const write = () => {
    timer = undefined;
    const text = JSON.stringify(bank?.snapshot());
    writing = writing
      .then(async () => {
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      })
      .catch((error: unknown) => logger.error({ err: error, file }, 'could not save the bank state'));
  };
  return {
    snapshot,
    attach(b: Bank) {
      bank = b;
    },
    changed() {
      timer ??= setTimeout(write, 200);
    },
    async flush() {
      if (timer) {
        clearTimeout(timer);
        write();
      }
      await writing;
    },
  };
}
