import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, ObjectType, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin } from '@analytica/auth';
import type { BankAccountRecord } from '../bank-accounts/bank-account.entity.js';
import { listBankAccounts } from '../bank-accounts/bank-accounts.js';
import { BankAccount } from '../bank-accounts/bank-accounts.graphql.js';
import type { PaymentContext } from '../context.js';
import type { PayeeRecord } from '../payees/payee.entity.js';
import { listPayees } from '../payees/payees.js';
import { Payee } from '../payees/payees.graphql.js';
import type { PaymentRecord } from '../payments/payment.entity.js';
import { listPayments, MAX_PAYMENTS_PAGE, pagePayments } from '../payments/payments.js';
import { Payment, PaymentConnection, PaymentFilterInput } from '../payments/payments.graphql.js';

/** The user service's entity: the payment subgraph only hangs the user's payment data on its key. */
@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' }) id!: string;
}

@Resolver(() => User)
export class UserPaymentsResolver {
  @Authorized()
  @FieldResolver(() => [BankAccount], { nullable: true, description: 'Bank accounts the user has linked and not unlinked, oldest first.' })
  async bankAccounts(@Root() user: User, @Ctx() ctx: PaymentContext): Promise<BankAccountRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listBankAccounts(ctx.em, user.id);
  }

  @Authorized()
  @FieldResolver(() => [Payment], {
    nullable: true,
    description: "The user's latest payments, newest first (at most 100).",
    deprecationReason: 'Use paymentsConnection: it pages past the 100th payment, filters and counts. Deprecated 2026-12-06; to be removed after 2027-06-30.',
  })
  async payments(
    @Root() user: User,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 100.' }) first: number | null,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listPayments(ctx.em, user.id, first ?? 50);
  }

  @Authorized()
  @FieldResolver(() => PaymentConnection, { nullable: true, description: "The user's payments, newest first, a page at a time." })
  async paymentsConnection(
    @Root() user: User,
    @Arg('first', () => Int, { defaultValue: 20, description: `Payments per page, 1 to ${MAX_PAYMENTS_PAGE}.` }) first: number,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after: string | null | undefined,
    @Arg('filter', () => PaymentFilterInput, { nullable: true, description: 'Which payments; all of them when left out.' }) filter: PaymentFilterInput | null | undefined,
    @Ctx() ctx: PaymentContext,
  ): Promise<PaymentConnection> {
    assertOwnerOrAdmin(ctx, user.id);
    return pagePayments(ctx.em, user.id, filter ?? {}, first, after);
  }

  @Authorized()
  @FieldResolver(() => [Payee], { nullable: true, description: 'People and companies the user has paid, most recent first.' })
  async payees(@Root() user: User, @Ctx() ctx: PaymentContext): Promise<PayeeRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listPayees(ctx.em, user.id);
  }
}
