import {
  Arg,
  Authorized,
  Ctx,
  Directive,
  Field,
  FieldResolver,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
  registerEnumType,
} from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { PAYMENT_STATUSES, type PaymentStatus } from '@analytica/events';
import { Money, MoneyInput, PageInfo, subscribeThroughGateway } from '@analytica/subgraph';
import type { BankAccountRecord } from '../bank-accounts/bank-account.entity.js';
import { BankAccount } from '../bank-accounts/bank-accounts.graphql.js';
import type { PaymentContext } from '../context.js';
import { cancelPayment, confirmPayment, findPayment, initiatePayment } from './payments.js';
import type { PaymentRecord, PaymentStatusChangeRecord } from './payment.entity.js';

/** The GraphQL enum of the statuses in the event contract, in their order. */
const PaymentStatusEnum = Object.fromEntries(PAYMENT_STATUSES.map((status) => [status, status])) as { [S in PaymentStatus]: S };
registerEnumType(PaymentStatusEnum, {
  name: 'PaymentStatus',
  description: 'QUEUED until the bank takes it (PROCESSING), then SUCCEEDED or FAILED. REQUIRES_ACTION waits for the payer.',
  valuesConfig: {
    REQUIRES_ACTION: { description: 'Waits for you: confirm it with the emailed code (confirmPayment) or cancel it.' },
    QUEUED: { description: 'Accepted, waiting to be sent to the bank; can still be cancelled.' },
    PROCESSING: { description: 'The bank has it; it can no longer be cancelled.' },
    SUCCEEDED: { description: 'The bank executed it. Final.' },
    FAILED: { description: 'The bank declined it or the confirmation failed (see failureReason). Final.' },
    CANCELED: { description: 'Cancelled by you, or its confirmation code expired. Final.' },
  },
});

@ObjectType('PaymentStatusChange', { description: "One step in a payment's life, oldest first." })
class PaymentStatusChange {
  @Field(() => PaymentStatusEnum, { description: 'The status the payment moved to.' }) status!: PaymentStatus;
  @Field(() => String, { nullable: true, description: 'Why the payment moved, when there is more to say than the status.' }) reason!: string | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When it moved (UTC, ISO 8601).' }) at!: Date;
}

@Directive('@key(fields: "id")')
@ObjectType('Payment', { description: "A transfer from one of the user's bank accounts to a payee." })
export class Payment {
  @Field(() => ID, { description: 'Id of the payment.' }) id!: string;
  @Field(() => ID, { description: "The payer's user id." }) userId!: string;
  @Field(() => String, { description: 'Who is paid.' }) payeeName!: string;
  @Field(() => String, { description: 'Shown to the payee.' }) reference!: string;
  @Field(() => PaymentStatusEnum, { description: 'Where the payment is in its life; history has every step.' }) status!: PaymentStatus;
  @Field(() => String, { nullable: true, description: 'Why the payment FAILED (a bank decline, a confirmation that went wrong).' }) failureReason!: string | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was initiated (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When its status last changed (UTC, ISO 8601).' }) updatedAt!: Date;
}

@ObjectType('PaymentEdge', { description: 'One payment in a page, with the cursor that points at it.' })
export class PaymentEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` (with the same filter) to read the payments that follow this one.' }) cursor!: string;
  @Field(() => Payment, { description: 'The payment.' }) node!: PaymentRecord;
}

@ObjectType('PaymentConnection', { description: 'A page of payments, newest first.' })
export class PaymentConnection {
  @Field(() => [PaymentEdge], { description: 'The payments of this page, each with its cursor.' }) edges!: PaymentEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  @Field(() => Int, { description: 'How many payments match the filter, across all pages.' }) totalCount!: number;
}

@InputType('PaymentFilter', { description: 'Which payments to list; every condition given must hold.' })
export class PaymentFilterInput {
  @Field(() => [PaymentStatusEnum], { nullable: true, description: 'In any of these statuses, e.g. [QUEUED, PROCESSING] for those still in flight.' }) statuses?:
    PaymentStatus[] | null;
  @Field(() => ID, { nullable: true, description: 'Paid from this bank account of yours.' }) bankAccountId?: string | null;
}

@InputType('InitiatePaymentInput', { description: 'A payment to send (initiatePayment).' })
class InitiatePaymentInput {
  @Field(() => ID, { description: 'A VERIFIED bank account of yours, in the currency of the amount.' }) bankAccountId!: string;
  @Field(() => MoneyInput, { description: 'Greater than zero.' }) amount!: MoneyInput;
  @Field(() => String, { description: '1 to 70 characters.' }) payeeName!: string;
  @Field(() => String, { description: 'Shown to the payee; up to 140 characters.' }) reference!: string;
}

@Resolver(() => Payment)
export class PaymentResolver {
  @Authorized()
  @Query(() => Payment, { nullable: true, description: "One of your payments. Another user's id is NOT_FOUND." })
  async payment(@Arg('id', () => ID, { description: 'One of your payments.' }) id: string, @Ctx() ctx: PaymentContext): Promise<PaymentRecord> {
    return findPayment(ctx.em, requireUser(ctx), id);
  }

  @Authorized()
  @Mutation(() => Payment, {
    description:
      'Queues a payment. Send a fresh idempotency key per payment and the same key on a retry: a retry with the same request ' +
      'returns the same payment, and the same key with a different request is a CONFLICT.',
  })
  async initiatePayment(
    @Arg('input', () => InitiatePaymentInput, { description: 'The account, amount, payee and reference.' }) input: InitiatePaymentInput,
    @Arg('idempotencyKey', () => String, { description: '8 to 100 characters of letters, digits, "-" or "_".' }) idempotencyKey: string,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentRecord> {
    const user = requireUser(ctx);
    const payment = await initiatePayment(
      ctx.em,
      user.id,
      {
        bankAccountId: input.bankAccountId,
        amountMinor: input.amount.amountMinor,
        currency: input.amount.currency,
        payeeName: input.payeeName,
        reference: input.reference,
      },
      idempotencyKey,
      ctx.settings,
    );
    ctx.pokeOutbox();
    return payment;
  }

  @Authorized()
  @Mutation(() => Payment, {
    description:
      'Confirms a payment that REQUIRES_ACTION with the six-digit code we emailed; it is then QUEUED. ' + 'The fifth wrong code fails the payment, and an expired code cancels it.',
  })
  async confirmPayment(
    @Arg('id', () => ID, { description: 'One of your payments, REQUIRES_ACTION.' }) id: string,
    @Arg('code', () => String, { description: 'The six-digit code from the email.' }) code: string,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentRecord> {
    const { payment, moved, refusal } = await confirmPayment(ctx.em, requireUser(ctx).id, id, code, ctx.settings);
    // A refused code can still have ended the payment (expired, last try): subscribers hear of it.
    if (moved) {
      ctx.pokeOutbox();
      await ctx.publishStatus(payment);
    }
    if (refusal) throw refusal;
    return payment;
  }

  @Authorized()
  @Mutation(() => Payment, { description: 'Cancels a payment that is still QUEUED or REQUIRES_ACTION; any other status is a CONFLICT.' })
  async cancelPayment(@Arg('id', () => ID, { description: 'One of your payments, QUEUED or REQUIRES_ACTION.' }) id: string, @Ctx() ctx: PaymentContext): Promise<PaymentRecord> {
    const payment = await cancelPayment(ctx.em, requireUser(ctx).id, id);
    ctx.pokeOutbox();
    await ctx.publishStatus(payment);
    return payment;
  }

  @FieldResolver(() => String, { nullable: true, description: "The bank's reference for the order, once the bank has answered." })
  bankReference(@Root() payment: PaymentRecord): string | null {
    return payment.providerReference;
  }

  @Authorized()
  @FieldResolver(() => Money, { description: "What is paid, greater than zero, in the bank account's currency (integer minor units)." })
  amount(@Root() payment: PaymentRecord, @Ctx() ctx: PaymentContext): Money {
    assertOwnerOrAdmin(ctx, payment.userId);
    return Money.of(payment.amountMinor, payment.currency);
  }

  @Authorized()
  @FieldResolver(() => [PaymentStatusChange], { description: 'Every status the payment has had, oldest first.' })
  async history(@Root() payment: PaymentRecord, @Ctx() ctx: PaymentContext): Promise<PaymentStatusChangeRecord[]> {
    assertOwnerOrAdmin(ctx, payment.userId);
    return ctx.loaders.history.load(payment.id);
  }

  @Authorized()
  @FieldResolver(() => BankAccount, { description: 'The account the payment is sent from, also when it has since been unlinked.' })
  async bankAccount(@Root() payment: PaymentRecord, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord> {
    assertOwnerOrAdmin(ctx, payment.userId);
    const account = await ctx.loaders.bankAccount.load(payment.bankAccountId);
    // The foreign key guarantees the row; a miss here is a bug, not a user error.
    if (!account) throw new Error(`bank account ${payment.bankAccountId} of payment ${payment.id} is missing`);
    return account;
  }
}

@Resolver()
export class PaymentStatusSubscription {
  /**
   * Served by the gateway: every status change of payment X is published on Redis channel
   * `Payment.X` with the payment's fields; only the payment's owner may subscribe.
   */
  @Subscription(() => Payment, { subscribe: subscribeThroughGateway, description: 'The payment each time its status changes (yours only).' })
  paymentStatus(@Arg('paymentId', () => ID, { description: 'One of your payments.' }) _paymentId: string, @Root() payment: PaymentRecord): PaymentRecord {
    return payment;
  }
}
