import { createHash, randomUUID } from 'node:crypto';

export interface Money {
  amountMinor: number;
  currency: string;
}

export type AccountStatus = 'OPEN' | 'CLOSED';

export interface Account {
  accountId: string;
  customerId: string;
  iban: string;
  name: string;
  holderName: string;
  currency: string;
  status: AccountStatus;
  balanceMinor: number;
}

export interface AccountSpec {
  name: string;
  currency: string;
  balanceMinor: number;
  status?: AccountStatus;
  iban?: string;
}

export interface Consent {
  consentId: string;
  customerId: string;
  bankName: string;
  status: 'AUTHORISED' | 'REVOKED';
  createdAt: Date;
  expiresAt: Date;
}

export interface PaymentOrder {
  debtorAccountId: string;
  amount: Money;
  creditorName: string;
  reference: string;
}

export type RejectionCode = 'INSUFFICIENT_FUNDS' | 'ACCOUNT_CLOSED' | 'CURRENCY_MISMATCH';

export type PaymentResult =
  | { paymentId: string; idempotencyKey: string; status: 'EXECUTED'; order: PaymentOrder; bookedAt: string }
  | { paymentId: string; idempotencyKey: string; status: 'REJECTED'; order: PaymentOrder; code: RejectionCode; message: string; rejectedAt: string };

/** One debit on an account. The simulator's own proof of how often each payment was applied. */
export interface Booking {
  bookingId: number;
  paymentId: string;
  idempotencyKey: string;
  accountId: string;
  customerId: string;
  amountMinor: number;
  currency: string;
  creditorName: string;
  bookedAt: string;
}

export class BankError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BankError';
  }
}

/** Idempotency keys are kept this long, as Stripe keeps them. */
export const KEY_RETENTION_MS = 24 * 3600_000;
/** PSD2 caps an account-access consent at 90 days. */
const CONSENT_LIFETIME_MS = 90 * 86_400_000;
const BANK_CODE = '50010517';

/** A valid IBAN for a country and BBAN: ISO 13616 check digits, 98 minus the mod-97 remainder. */
export function ibanFor(country: string, bban: string): string {
  const digits = `${bban}${country}00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let remainder = 0;
  for (const digit of digits) remainder = (remainder * 10 + Number(digit)) % 97;
  return `${country}${String(98 - remainder).padStart(2, '0')}${bban}`;
}

function stableNumber(seed: string, digits: number): string {
  const hex = createHash('sha256').update(seed).digest('hex').slice(0, 15);
  return (BigInt(`0x${hex}`) % 10n ** BigInt(digits)).toString().padStart(digits, '0');
}

const orderFingerprint = (order: PaymentOrder) =>
  createHash('sha256')
    .update(JSON.stringify([order.debtorAccountId, order.amount.amountMinor, order.amount.currency, order.creditorName, order.reference]))
    .digest('hex');

/**
 * The simulated bank's books, in memory: customers and their accounts, consents a customer gave to
 * a third party (us), and payment orders submitted under an idempotency key. A key is applied at
 * most once: a second submission with the same key and order gets the first answer back.
 */
/** Everything the bank knows, as plain JSON: what BANK_STATE_FILE keeps across restarts. */
export interface BankSnapshot {
  customers: [string, { name: string; accountIds: string[] }][];
  accounts: Account[];
  consents: (Omit<Consent, 'createdAt' | 'expiresAt'> & { createdAt: string; expiresAt: string })[];
  orders: [string, { fingerprint: string; result: PaymentResult; at: number }][];
  bookings: Booking[];
}

export function createBank(options: { defaultBalanceMinor: number; now?: () => Date; snapshot?: BankSnapshot; onChange?: () => void }) {
  const now = options.now ?? (() => new Date());
  const initial = options.snapshot;
  const customers = new Map<string, { name: string; accountIds: string[] }>(initial?.customers ?? []);
  const accounts = new Map<string, Account>((initial?.accounts ?? []).map((a) => [a.accountId, a]));
  const consents = new Map<string, Consent>((initial?.consents ?? []).map((c) => [c.consentId, { ...c, createdAt: new Date(c.createdAt), expiresAt: new Date(c.expiresAt) }]));
  const orders = new Map<string, { fingerprint: string; result: PaymentResult; at: number }>(initial?.orders ?? []);
  const bookings: Booking[] = [...(initial?.bookings ?? [])];
  const counts = { submissions: 0, replays: 0, conflicts: 0, executed: 0, rejected: 0 };
  const changed = () => options.onChange?.();

  function openAccounts(customerId: string, name: string, specs: AccountSpec[]) {
    const previous = customers.get(customerId);
    for (const id of previous?.accountIds ?? []) accounts.delete(id);
    const ids = specs.map((spec, i) => {
      const accountId = randomUUID();
      accounts.set(accountId, {
        accountId,
        customerId,
        iban: spec.iban ?? ibanFor('DE', `${BANK_CODE}${stableNumber(`${customerId}:${i}:${spec.name}`, 10)}`),
        name: spec.name,
        holderName: name,
        currency: spec.currency,
        status: spec.status ?? 'OPEN',
        balanceMinor: spec.balanceMinor,
      });
      return accountId;
    });
    customers.set(customerId, { name, accountIds: ids });
    changed();
  }

  /** A customer the bank has not seen gets the sandbox's standard set of accounts. */
  function ensureCustomer(customerId: string) {
    if (customers.has(customerId)) return;
    openAccounts(customerId, 'Sandbox Customer', [
      { name: 'Current account', currency: 'EUR', balanceMinor: options.defaultBalanceMinor },
      { name: 'Savings account', currency: 'EUR', balanceMinor: options.defaultBalanceMinor * 5 },
      { name: 'Pocket money', currency: 'EUR', balanceMinor: 5_000 },
      { name: 'Travel account', currency: 'GBP', balanceMinor: 200_000 },
      { name: 'Old current account', currency: 'EUR', balanceMinor: 0, status: 'CLOSED' },
    ]);
  }

  function customerAccounts(customerId: string): Account[] {
    return (customers.get(customerId)?.accountIds ?? []).map((id) => ({ ...accounts.get(id)! }));
  }

  function liveConsent(consentId: string): Consent {
    const consent = consents.get(consentId);
    if (!consent || consent.status !== 'AUTHORISED' || consent.expiresAt <= now()) {
      throw new BankError(403, 'CONSENT_INVALID', 'The consent does not exist, was revoked or has expired.');
    }
    return consent;
  }

  function accountUnder(consentId: string, accountId: string): Account {
    const consent = liveConsent(consentId);
    const account = accounts.get(accountId);
    if (!account || account.customerId !== consent.customerId) {
      throw new BankError(403, 'ACCOUNT_NOT_COVERED', 'The consent does not cover this account.');
    }
    return account;
  }

  function forgetOldKeys() {
    const cutoff = now().getTime() - KEY_RETENTION_MS;
    for (const [key, entry] of orders) {
      if (entry.at >= cutoff) break; // insertion order is time order
      orders.delete(key);
    }
  }

  function apply(idempotencyKey: string, account: Account, order: PaymentOrder): PaymentResult {
    const paymentId = randomUUID();
    const at = now().toISOString();
    const reject = (code: RejectionCode, message: string): PaymentResult => ({ paymentId, idempotencyKey, status: 'REJECTED', order, code, message, rejectedAt: at });
    if (account.status === 'CLOSED') return reject('ACCOUNT_CLOSED', 'The debtor account is closed.');
    if (account.currency !== order.amount.currency) {
      return reject('CURRENCY_MISMATCH', `The debtor account is held in ${account.currency}, not ${order.amount.currency}.`);
    }
    if (account.balanceMinor < order.amount.amountMinor) return reject('INSUFFICIENT_FUNDS', 'The debtor account does not hold enough money.');
    account.balanceMinor -= order.amount.amountMinor;
    bookings.push({
      bookingId: bookings.length + 1,
      paymentId,
      idempotencyKey,
      accountId: account.accountId,
      customerId: account.customerId,
      amountMinor: -order.amount.amountMinor,
      currency: order.amount.currency,
      creditorName: order.creditorName,
      bookedAt: at,
    });
    return { paymentId, idempotencyKey, status: 'EXECUTED', order, bookedAt: at };
  }

  return {
    /** Account-access consent: in the sandbox the customer authorises at once; the answer lists their accounts. */
    createConsent(customerId: string, bankName: string): { consent: Consent; accounts: Account[] } {
      if (!customerId) throw new BankError(400, 'CUSTOMER_REQUIRED', 'Name the customer (customerId).');
      ensureCustomer(customerId);
      const created = now();
      const consent: Consent = {
        consentId: randomUUID(),
        customerId,
        bankName: bankName || 'Sandbox Bank',
        status: 'AUTHORISED',
        createdAt: created,
        expiresAt: new Date(created.getTime() + CONSENT_LIFETIME_MS),
      };
      consents.set(consent.consentId, consent);
      changed();
      return { consent, accounts: customerAccounts(customerId) };
    },

    consentAccounts(consentId: string): Account[] {
      return customerAccounts(liveConsent(consentId).customerId);
    },

    revokeConsent(consentId: string) {
      const consent = consents.get(consentId);
      if (!consent) throw new BankError(404, 'CONSENT_NOT_FOUND', 'No such consent.');
      consent.status = 'REVOKED';
      changed();
    },

    balance(consentId: string, accountId: string): Money {
      const account = accountUnder(consentId, accountId);
      return { amountMinor: account.balanceMinor, currency: account.currency };
    },

    /**
     * Applies a payment order once per key. The same key with the same order answers the stored
     * result (`replayed`); the same key with another order is refused, as Stripe does.
     */
    submitPayment(idempotencyKey: string, consentId: string, order: PaymentOrder): { result: PaymentResult; replayed: boolean } {
      counts.submissions++;
      if (!/^[\w-]{8,100}$/.test(idempotencyKey)) throw new BankError(400, 'IDEMPOTENCY_KEY_REQUIRED', 'Send an Idempotency-Key header of 8 to 100 letters, digits, "-" or "_".');
      if (!Number.isSafeInteger(order.amount.amountMinor) || order.amount.amountMinor <= 0) {
        throw new BankError(400, 'INVALID_AMOUNT', 'The amount must be a positive whole number of minor units.');
      }
      forgetOldKeys();
      const fingerprint = orderFingerprint(order);
      const earlier = orders.get(idempotencyKey);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) {
          counts.conflicts++;
          throw new BankError(409, 'IDEMPOTENCY_KEY_REUSED', 'This idempotency key was used for a different payment order.');
        }
        counts.replays++;
        return { result: earlier.result, replayed: true };
      }
      const account = accountUnder(consentId, order.debtorAccountId);
      const result = apply(idempotencyKey, account, order);
      orders.set(idempotencyKey, { fingerprint, result, at: now().getTime() });
      if (result.status === 'EXECUTED') counts.executed++;
      else counts.rejected++;
      changed();
      return { result, replayed: false };
    },

    /** What became of the order sent with this key, or undefined if the bank never received it. */
    paymentByKey(idempotencyKey: string): PaymentResult | undefined {
      return orders.get(idempotencyKey)?.result;
    },

    /** Sandbox: gives a customer exactly these accounts (their earlier ones are closed away). */
    setCustomer(customerId: string, name: string, specs: AccountSpec[]): Account[] {
      openAccounts(customerId, name, specs);
      return customerAccounts(customerId);
    },

    /** Sandbox: closes an account or changes its balance, to provoke declines. */
    updateAccount(accountId: string, patch: { status?: AccountStatus; balanceMinor?: number }): Account {
      const account = accounts.get(accountId);
      if (!account) throw new BankError(404, 'ACCOUNT_NOT_FOUND', 'No such account.');
      if (patch.status === 'OPEN' || patch.status === 'CLOSED') account.status = patch.status;
      if (Number.isSafeInteger(patch.balanceMinor)) account.balanceMinor = patch.balanceMinor!;
      changed();
      return { ...account };
    },

    bookings(filter: { customerId?: string } = {}): Booking[] {
      return bookings.filter((b) => !filter.customerId || b.customerId === filter.customerId);
    },

    stats() {
      return { ...counts, bookings: bookings.length, keys: orders.size };
    },

    snapshot(): BankSnapshot {
      return {
        customers: [...customers],
        accounts: [...accounts.values()],
        consents: [...consents.values()].map((c) => ({ ...c, createdAt: c.createdAt.toISOString(), expiresAt: c.expiresAt.toISOString() })),
        orders: [...orders],
        bookings,
      };
    },
  };
}
export type Bank = ReturnType<typeof createBank>;
