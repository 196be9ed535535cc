import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import { buildFederatedSchema, subscribeThroughGateway, userReference, type SubgraphContext } from '@analytica/subgraph';
import { BankAccount, BankAccountResolver } from './bank-account-schema.js';
import type { BankClient } from './bank-client.js';
import { bankAccountLoader, findBankAccount, listBankAccounts, type BankAccountRecord } from './bank-accounts.js';
import { DeadLetterResolver } from './dead-letter-schema.js';
import { listPayees, type PayeeRecord } from './payees.js';
import { Payee, Payment, PaymentResolver } from './payment-schema.js';
import { findPayment, historyLoader, listPayments, type PaymentRecord, type PaymentSettings } from './payments.js';

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

export function paymentContext(
  base: SubgraphContext,
  em: EntityManager,
  services: Pick<PaymentContext, 'bank' | 'settings' | 'pokeOutbox' | 'publishStatus'>,
): PaymentContext {
  return { ...base, em, ...services, loaders: { bankAccount: bankAccountLoader(em), history: historyLoader(em) } };
}

@Directive('@key(fields: "id")')
@ObjectType('User')
class User {
  @Field(() => ID) id!: string;
}

@Resolver(() => User)
class UserPaymentsResolver {
  @Authorized()
  @FieldResolver(() => [BankAccount], { nullable: true, description: 'Bank accounts the user has linked and not unlinked, oldest first.' })
  async bankAccounts(@Root() user: User, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listBankAccounts(ctx.em, user.id);
  }

  @Authorized()
  @FieldResolver(() => [Payment], { nullable: true, description: 'The user\'s payments, newest first.' })
  async payments(
    @Root() user: User,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 100.' }) first: number | null,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listPayments(ctx.em, user.id, first ?? 50);
  }

  @Authorized()
  @FieldResolver(() => [Payee], { nullable: true, description: 'People and companies the user has paid, most recent first.' })
  async payees(@Root() user: User, @Ctx() ctx: PaymentContext): Promise<PayeeRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listPayees(ctx.em, user.id);
  }
}

@Resolver()
class PaymentStatusSubscription {
  /**
   * Served by the gateway: every status change of payment X is published on Redis channel
   * `Payment.X` with the payment's fields; only the payment's owner may subscribe.
   */
  @Subscription(() => Payment, { subscribe: subscribeThroughGateway, description: "The payment each time its status changes (yours only)." })
  paymentStatus(@Arg('paymentId', () => ID) _paymentId: string, @Root() payment: PaymentRecord): PaymentRecord {
    return payment;
  }
}

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
