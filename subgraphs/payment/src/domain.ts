// The payment domain without GraphQL, for the processes that work on the payment schema beside the
// service (the payments worker): `@analytica/payment-subgraph/domain`. Starting the service is `.`.
import { OutboxMessageSchema, ProcessedEventSchema } from '@analytica/events';
import { BankAccountSchema, BankConnectionSchema } from './bank-accounts/bank-account.entity.js';
import { DeadLetterSchema } from './dead-letters/dead-letter.entity.js';
import { LedgerEntrySchema } from './ledger/ledger-entry.entity.js';
import { PayeeSchema } from './payees/payee.entity.js';
import { PaymentSchema, PaymentStatusChangeSchema } from './payments/payment.entity.js';

export { bankEnv } from './environment.js';
export { migrations } from './migrations.js';
export { BankRefusal, createBankClient, type BankClient, type PaymentOutcome } from './bank-client.js';
export { BankAccountRecord } from './bank-accounts/bank-account.entity.js';
export { providerLink } from './bank-accounts/bank-accounts.js';
export { PaymentRecord } from './payments/payment.entity.js';
export { beginProcessing, cancelUnconfirmedPayments, settlePayment, stuckPayments, type Settlement } from './payments/processing.js';
export { publishPaymentStatus } from './payments/live.js';

/** Every table of the payment schema, for a process that works on it (the service, the payments worker). */
export const paymentEntities = [
  BankConnectionSchema,
  BankAccountSchema,
  PaymentSchema,
  PaymentStatusChangeSchema,
  PayeeSchema,
  LedgerEntrySchema,
  DeadLetterSchema,
  OutboxMessageSchema,
  ProcessedEventSchema,
];
