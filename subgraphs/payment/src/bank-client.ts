/**
 * The adapter to the open-banking provider (the bank simulator locally). It turns the provider's
 * answers into three outcomes the payment domain acts on: an answer, a decline (permanent: the
 * payment fails with the reason), or a passing failure (5xx, 429, network, timeout: try again
 * with the same idempotency key, which the provider applies at most once).
 */
import { currentRequestId } from '@analytica/errors';
import { inClientSpan } from '@analytica/telemetry/context';

export interface ProviderAccount {
  accountId: string;
  iban: string;
  name: string;
  holderName: string;
  currency: string;
  status: 'OPEN' | 'CLOSED';
}

export interface ProviderConsent {
  consentId: string;
  bankName: string;
  expiresAt: string;
  accounts: ProviderAccount[];
}

export interface PaymentOrder {
  debtorAccountId: string;
  amount: { amountMinor: number; currency: string };
  creditorName: string;
  reference: string;
}

export type PaymentOutcome = { status: 'EXECUTED'; bankPaymentId: string; bookedAt: string } | { status: 'REJECTED'; bankPaymentId: string | null; code: string; message: string };

/** The provider could not answer now; the same call may work later. */
export class BankUnavailable extends Error {
  override name = 'BankUnavailable';
}

/** The provider refused the request itself (not a decline): retrying the same request cannot help. */
export class BankRefusal extends Error {
  override name = 'BankRefusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface BankClient {
  createConsent(customerId: string, bankName: string): Promise<ProviderConsent>;
  consentAccounts(consentId: string): Promise<ProviderAccount[]>;
  revokeConsent(consentId: string): Promise<void>;
  balance(consentId: string, accountId: string): Promise<{ amountMinor: number; currency: string }>;
  /** Submits a payment order; the same key always gets the same outcome, and is applied at most once. */
  submitPayment(idempotencyKey: string, consentId: string, order: PaymentOrder): Promise<PaymentOutcome>;
  /** The outcome of the order sent with this key, or null if the provider never received it. */
  paymentByKey(idempotencyKey: string): Promise<PaymentOutcome | null>;
}

export function createBankClient(options: { baseUrl: string; timeoutMs: number; fetch?: typeof fetch }): BankClient {
  const base = `${options.baseUrl.replace(/\/$/, '')}/v1`;
  const doFetch = options.fetch ?? fetch;

  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const requestId = currentRequestId();
    let response: Response;
    let text: string;
    try {
      // In the payment's trace (tracing on): how long the bank took, and its side of the call.
      [response, text] = await inClientSpan(`bank ${method}`, { 'http.request.method': method, 'url.full': `${base}${path}` }, async (trace) => {
        const answer = await doFetch(`${base}${path}`, {
          method,
          headers: {
            accept: 'application/json',
            ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
            // The correlation id banks' APIs ask for (X-Request-ID in NextGenPSD2): ours, so that the bank's side of a payment is found by it too.
            ...(requestId ? { 'x-request-id': requestId } : {}),
            ...trace,
            ...init.headers,
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        return [answer, await answer.text()] as const;
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : String((error as Error)?.message ?? error);
      throw new BankUnavailable(`bank ${method} ${path}: ${reason}`);
    }
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      if (response.status < 500) throw new BankRefusal('MALFORMED_ANSWER', `bank ${method} ${path} answered ${response.status} with a body that is not JSON`);
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      throw new BankUnavailable(`bank ${method} ${path} answered ${response.status} ${body.code ?? ''}`.trim());
    }
    return { status: response.status, body };
  }

  const refusal = (status: number, body: Record<string, unknown>) => new BankRefusal(String(body.code ?? `HTTP_${status}`), String(body.message ?? `the bank answered ${status}`));

  const outcomeOf = (body: Record<string, unknown>): PaymentOutcome =>
    body.status === 'EXECUTED'
      ? { status: 'EXECUTED', bankPaymentId: String(body.paymentId), bookedAt: String(body.bookedAt) }
      : { status: 'REJECTED', bankPaymentId: body.paymentId ? String(body.paymentId) : null, code: String(body.code), message: String(body.message ?? body.code) };

  return {
    async createConsent(customerId, bankName) {
      const { status, body } = await call('POST', '/consents', { body: { customerId, bankName } });
      if (status !== 201) throw refusal(status, body);
      return body as unknown as ProviderConsent;
    },
    async consentAccounts(consentId) {
      const { status, body } = await call('GET', `/consents/${encodeURIComponent(consentId)}/accounts`);
      if (status !== 200) throw refusal(status, body);
      return body.accounts as ProviderAccount[];
    },
    async revokeConsent(consentId) {
      const { status, body } = await call('DELETE', `/consents/${encodeURIComponent(consentId)}`);
      if (status !== 204 && status !== 404) throw refusal(status, body);
    },
    async balance(consentId, accountId) {
      const { status, body } = await call('GET', `/accounts/${encodeURIComponent(accountId)}/balances`, { headers: { 'consent-id': consentId } });
      if (status !== 200) throw refusal(status, body);
      const available = (body.balances as { type: string; amount: { amountMinor: number; currency: string } }[]).find((b) => b.type === 'available');
      if (!available) throw new BankRefusal('NO_BALANCE', 'the bank sent no available balance');
      return available.amount;
    },
    async submitPayment(idempotencyKey, consentId, order) {
      const { status, body } = await call('POST', '/payments', { body: order, headers: { 'idempotency-key': idempotencyKey, 'consent-id': consentId } });
      if (status === 200 || status === 201 || status === 422) return outcomeOf(body);
      throw refusal(status, body);
    },
    async paymentByKey(idempotencyKey) {
      const { status, body } = await call('GET', `/payments/by-idempotency-key/${encodeURIComponent(idempotencyKey)}`);
      if (status === 404) return null;
      if (status !== 200) throw refusal(status, body);
      return outcomeOf(body);
    },
  };
}
