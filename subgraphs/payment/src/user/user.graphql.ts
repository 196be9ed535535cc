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
import { listPayments } from '../payments/payments.js';
import { Payment } from '../payments/payments.graphql.js';

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
  @FieldResolver(() => [Payment], { nullable: true, description: "The user's payments, newest first." })
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
