import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { BankClient } from './bank-client.js';
import { bankAccountLoader } from './bank-accounts/bank-accounts.js';
import { historyLoader, type PaymentSettings } from './payments/payments.js';
import type { PaymentRecord } from './payments/payment.entity.js';

/** What every resolver of the payment subgraph gets: the caller, a fresh EntityManager, the bank and the loaders. */
export interface PaymentContext extends SubgraphContext {
  em: EntityManager;
  bank: BankClient;
  settings: PaymentSettings;
  loaders: { bankAccount: ReturnType<typeof bankAccountLoader>; history: ReturnType<typeof historyLoader> };
  /** Wakes the outbox relay after a commit that wrote an event. */
  pokeOutbox(): void;
  /** Publishes a committed status change for Subscription.paymentStatus. */
  publishStatus(payment: PaymentRecord): Promise<void>;
}

export function paymentContext(base: SubgraphContext, em: EntityManager, services: Pick<PaymentContext, 'bank' | 'settings' | 'pokeOutbox' | 'publishStatus'>): PaymentContext {
  return { ...base, em, ...services, loaders: { bankAccount: bankAccountLoader(em), history: historyLoader(em) } };
}
