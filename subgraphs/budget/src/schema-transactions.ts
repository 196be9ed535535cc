import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import type { FilterQuery } from '@mikro-orm/core';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput, PageInfo } from '@analytica/subgraph';
import { isUuid, visibleOrNotFound } from './access.js';
import type { AccountRecord } from './accounts.js';
import type { CategoryRecord } from './categories.js';
import { Account } from './schema-accounts.js';
import { Category } from './schema-categories.js';
import { User, type BudgetContext } from './schema-user.js';
import {
  checkPageSize,
  deleteTransaction,
  encodeCursor,
  pageTransactions,
  recordTransaction,
  TransactionRecord,
  transactionsWhere,
} from './transactions.js';

@Directive('@key(fields: "id")')
@ObjectType('Transaction', { description: 'Money that moved in or out of one account.' })
export class Transaction {
  @Field(() => ID) id!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the bank booked it (UTC).' }) bookedAt!: Date;
  @Field(() => String) payee!: string;
  @Field(() => String, { nullable: true }) notes!: string | null;
  @Field(() => Int, { description: 'Increases with every change; send it back when editing, to avoid overwriting a newer change.' })
  version!: number;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
}

@ObjectType('TransactionEdge')
class TransactionEdge {
  @Field(() => String) cursor!: string;
  @Field(() => Transaction) node!: TransactionRecord;
}

@ObjectType('TransactionConnection', { description: 'A page of transactions, newest booking first.' })
class TransactionConnection {
  @Field(() => [TransactionEdge]) edges!: TransactionEdge[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
  /** What totalCount counts: the filter without the cursor. */
  where!: FilterQuery<TransactionRecord>;
}

@InputType('TransactionFilter')
class TransactionFilterInput {
  @Field(() => ID, { nullable: true }) accountId?: string | null;
  @Field(() => ID, { nullable: true }) categoryId?: string | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Booked at or after this time.' }) from?: Date | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Booked before this time.' }) to?: Date | null;
}

@InputType('RecordTransactionInput')
class RecordTransactionInput {
  @Field(() => ID) accountId!: string;
  @Field(() => MoneyInput, { description: "Negative for money out. Must be in the account's currency." }) amount!: MoneyInput;
  @Field(() => GraphQLDateTimeISO) bookedAt!: Date;
  @Field(() => String, { description: '1 to 200 characters.' }) payee!: string;
  @Field(() => ID, { nullable: true }) categoryId?: string | null;
  @Field(() => String, { nullable: true }) notes?: string | null;
}

@Resolver(() => Transaction)
export class TransactionResolver {
  @Authorized()
  @Query(() => Transaction, { nullable: true, description: 'One of your transactions. Any id that is not yours answers NOT_FOUND.' })
  async transaction(@Arg('id', () => ID) id: string, @Ctx() ctx: BudgetContext): Promise<TransactionRecord> {
    requireUser(ctx);
    const transaction = isUuid(id) ? await ctx.em.findOne(TransactionRecord, { id }) : null;
    return visibleOrNotFound(ctx, transaction, 'Transaction', id);
  }

  @Authorized()
  @Mutation(() => Transaction, { description: 'Records money in (positive) or out (negative) of one of your accounts.' })
  async recordTransaction(@Arg('input', () => RecordTransactionInput) input: RecordTransactionInput, @Ctx() ctx: BudgetContext): Promise<TransactionRecord> {
    const { id: userId } = requireUser(ctx);
    const transaction = await recordTransaction(ctx.em, userId, input);
    ctx.eventsRecorded();
    ctx.loaders.balance.clear(transaction.accountId);
    ctx.loaders.spent.clearAll();
    return transaction;
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Removes one of your transactions; the account balance no longer counts it.' })
  async deleteTransaction(@Arg('id', () => ID) id: string, @Ctx() ctx: BudgetContext): Promise<boolean> {
    const { id: userId } = requireUser(ctx);
    await deleteTransaction(ctx.em, userId, id);
    ctx.loaders.balance.clearAll();
    ctx.loaders.spent.clearAll();
    return true;
  }

  @FieldResolver(() => Money)
  amount(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, transaction.userId);
    return Money.of(transaction.amount, transaction.currency);
  }

  @FieldResolver(() => Account)
  async account(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    const account = await ctx.loaders.account.load(transaction.accountId);
    if (!account) throw new Error(`account ${transaction.accountId} of transaction ${transaction.id} is missing`);
    return account;
  }

  @FieldResolver(() => Category, { nullable: true })
  async category(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    if (!transaction.categoryId) return null;
    return (await ctx.loaders.category.load(transaction.categoryId)) ?? null;
  }
}

@Resolver(() => TransactionConnection)
export class TransactionConnectionResolver {
  @FieldResolver(() => Int, { description: 'How many transactions match the filter, across all pages.' })
  totalCount(@Root() connection: TransactionConnection, @Ctx() ctx: BudgetContext): Promise<number> {
    return ctx.em.count(TransactionRecord, connection.where);
  }
}

@Resolver(() => User)
export class UserTransactionsResolver {
  @Authorized()
  @FieldResolver(() => TransactionConnection, { nullable: true, description: 'Your transactions, newest booking first, a page at a time.' })
  async transactions(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('filter', () => TransactionFilterInput, { nullable: true }) filter?: TransactionFilterInput | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 200.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page.' }) after?: string | null,
  ): Promise<TransactionConnection> {
    assertOwnerOrAdmin(ctx, user.id);
    const size = checkPageSize(first);
    const where = transactionsWhere(user.id, filter ?? {});
    const page = await pageTransactions(ctx.em, where, size, after);
    const edges = page.nodes.map((node) => ({ cursor: encodeCursor(node), node }));
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: false,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      where,
    };
  }
}
