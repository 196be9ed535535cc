import { requireUser } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { findBankAccount } from './bank-accounts/bank-accounts.js';
import { BankAccountResolver } from './bank-accounts/bank-accounts.graphql.js';
import type { PaymentContext } from './context.js';
import { DeadLetterResolver } from './dead-letters/dead-letters.graphql.js';
import { findPayment } from './payments/payments.js';
import { PaymentResolver, PaymentStatusSubscription } from './payments/payments.graphql.js';
import { User, UserPaymentsResolver } from './user/user.graphql.js';

export function buildPaymentSchema() {
  return buildFederatedSchema({
    resolvers: [UserPaymentsResolver, BankAccountResolver, PaymentResolver, PaymentStatusSubscription, DeadLetterResolver],
    // Nothing returns a User here: without this, type-graphql would leave the type (and its fields) out.
    orphanedTypes: [User],
    referenceResolvers: {
      User: userReference(),
      // Looked up by id, so another user's object is NOT_FOUND, exactly as the payment query answers.
      BankAccount: {
        __resolveReference: (reference: { id: string }, ctx: PaymentContext) => findBankAccount(ctx.em, requireUser(ctx), reference.id),
      },
      Payment: {
        __resolveReference: (reference: { id: string }, ctx: PaymentContext) => findPayment(ctx.em, requireUser(ctx), reference.id),
      },
    },
  });
}
