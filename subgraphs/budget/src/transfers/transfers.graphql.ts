import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, ObjectType, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { MoneyInput } from '@analytica/subgraph';
import type { BudgetContext } from '../context.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { Transaction } from '../transactions/transactions.graphql.js';
import { transferMoney } from './transfers.js';

@InputType('TransferInput', { description: 'Money to move between two of your accounts (transferMoney).' })
class TransferInput {
  @Field(() => ID, { description: 'The account the money leaves.' }) fromAccountId!: string;
  @Field(() => ID, { description: 'The account the money arrives in.' }) toAccountId!: string;
  @Field(() => MoneyInput, { description: 'What leaves fromAccount: positive, in its currency.' }) amount!: MoneyInput;
  @Field(() => MoneyInput, {
    nullable: true,
    description: "What arrives, in toAccount's currency. Defaults to amount, or to amount converted at the day's exchange rate.",
  })
  receivedAmount?: MoneyInput | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When the transfer was booked (ISO 8601; stored in UTC).' }) bookedAt!: Date;
  @Field(() => String, { nullable: true, description: 'Defaults to "Transfer to/from <account>".' }) payee?: string | null;
  @Field(() => String, { description: 'Free text on both legs.', nullable: true }) notes?: string | null;
  @Field(() => [String], { description: 'Tags on both legs, up to 20; stored lower-case.', nullable: true }) tags?: string[] | null;
}

@ObjectType('Transfer', { description: 'Money moved between two of your accounts: two transactions that exist together.' })
class Transfer {
  @Field(() => ID, { description: 'Id of the transfer, shared by both legs (Transaction.transferId).' }) id!: string;
  @Field(() => Transaction, { description: 'The leg that took the money out.' }) from!: TransactionRecord;
  @Field(() => Transaction, { description: 'The leg that brought it in.' }) to!: TransactionRecord;
}

@Resolver(() => Transfer)
export class TransferResolver {
  @Authorized()
  @Mutation(() => Transfer, { description: 'Moves money between two of your own accounts.' })
  async transferMoney(@Arg('input', () => TransferInput, { description: 'The two accounts and the amount.' }) input: TransferInput, @Ctx() ctx: BudgetContext) {
    const { id: userId } = requireUser(ctx);
    const transfer = await transferMoney(ctx.em, userId, input);
    ctx.eventsRecorded();
    ctx.loaders.balance.clearAll();
    return transfer;
  }
}
