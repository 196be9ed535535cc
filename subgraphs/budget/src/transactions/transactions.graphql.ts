import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput, PageInfo } from '@analytica/subgraph';
import { pageOf } from '@analytica/subgraph/pages';
import { isUuid, visibleOrNotFound } from '@analytica/subgraph/access';
import type { AccountRecord } from '../accounts/account.entity.js';
import { Account } from '../accounts/accounts.graphql.js';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import { checkHomeCurrency, convertedTotals } from '../reports/reports.js';
import { User } from '../user/user.graphql.js';
import { SplitRecord, TransactionRecord } from './transaction.entity.js';
import {
  checkPageSize,
  deleteTransaction,
  encodeCursor,
  pageTransactions,
  recategorizeTransactions,
  recordTransaction,
  selectTransactions,
  exactTotals,
  summariseTransactions,
  type SummaryRow,
  TRANSACTION_SORTS,
  updateTransaction,
  type Selection,
  type TransactionSort,
} from './transactions.js';

const TransactionSortEnum = Object.fromEntries(TRANSACTION_SORTS.map((s) => [s, s])) as { [K in TransactionSort]: K };
registerEnumType(TransactionSortEnum, {
  name: 'TransactionSort',
  description: 'Order of a transaction list; ties are broken by id.',
  valuesConfig: {
    BOOKED_AT_DESC: { description: 'Newest booking first.' },
    BOOKED_AT_ASC: { description: 'Oldest booking first.' },
    AMOUNT_DESC: { description: 'Largest signed amount first (money in before money out).' },
    AMOUNT_ASC: { description: 'Smallest signed amount first (largest money out first).' },
    PAYEE_ASC: { description: 'By payee, A to Z.' },
    PAYEE_DESC: { description: 'By payee, Z to A.' },
  },
});

// Transactions, their pages, parts and totals are tagged `consent`: the budget-with-consent contract
// lets a partner app read them for a user who consented (the consent token is that user's; every
// ownership check applies). Nothing that changes them is tagged.
@Directive('@key(fields: "id")')
@Directive('@tag(name: "consent")')
@ObjectType('Transaction', { description: 'Money that moved in or out of one account.' })
export class Transaction {
  @Field(() => ID, { description: 'Id of the transaction.' }) id!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the bank booked it (UTC).' }) bookedAt!: Date;
  @Field(() => String, { description: 'Who was paid or who paid.' }) payee!: string;
  @Field(() => String, { description: 'Free text.', nullable: true }) notes!: string | null;
  @Field(() => [String], { description: 'Lower-case labels.' }) tags!: string[];
  @Field(() => Int, { description: 'Increases with every change; send it back when editing, to avoid overwriting a newer change.' })
  version!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was recorded in Analytica (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When it last changed (UTC, ISO 8601).' }) updatedAt!: Date;
  @Field(() => ID, { nullable: true, description: 'Shared by the two legs of a transfer between your accounts.' }) transferId!: string | null;
  @Field(() => String, { nullable: true, description: 'The schedule occurrence (YYYY-MM-DD) this transaction posted.' }) scheduledOn!: string | null;
}

@Directive('@tag(name: "consent")')
@ObjectType('TransactionSplit', { description: 'One part of a split transaction; the parts sum to the transaction.' })
class TransactionSplit {
  @Field(() => Int, { description: "The part's place in the split, from 1." }) position!: number;
  @Field(() => String, { description: 'Free text for this part.', nullable: true }) notes!: string | null;
}

/** A part as shown: in its transaction's currency. */
type SplitView = SplitRecord & { currency: string };

@Directive('@tag(name: "consent")')
@ObjectType('TransactionEdge', { description: 'One transaction in a page, with the cursor that points at it.' })
class TransactionEdge {
  @Field(() => String, { description: 'Opaque; pass as `after` (with the same sort and filter) to read the transactions that follow this one.' }) cursor!: string;
  @Field(() => Transaction, { description: 'The transaction.' }) node!: TransactionRecord;
}

@Directive('@tag(name: "consent")')
@ObjectType('CurrencyTotals', { description: 'Sums of a set of transactions in one currency.' })
export class CurrencyTotals {
  @Field(() => String, { description: 'ISO 4217 code these sums are in.' }) currency!: string;
  @Field(() => Int, { description: 'How many transactions in this currency.' }) count!: number;
  @Field(() => Money, { description: 'Money in: the sum of positive amounts.' }) inflow!: Money;
  @Field(() => Money, { description: 'Money out: the sum of negative amounts (negative).' }) outflow!: Money;
  @Field(() => Money, { description: 'inflow plus outflow: the change in balance.' }) net!: Money;
}

@Directive('@tag(name: "consent")')
@ObjectType('TransactionConnection', { description: 'A page of transactions in the requested order.' })
class TransactionConnection {
  @Field(() => [TransactionEdge], { description: 'The transactions of this page, each with its cursor.' }) edges!: TransactionEdge[];
  @Field(() => PageInfo, { description: 'Whether there is a next page, and the cursor to ask for it.' }) pageInfo!: PageInfo;
  /** What totalCount and totals count: the filter without the cursor. */
  selection!: Selection;
  /** Both totalCount and totals come from one statement, run once per connection when asked for. */
  summary?: Promise<SummaryRow[]>;
}

const summaryOf = (connection: TransactionConnection, ctx: BudgetContext) => (connection.summary ??= summariseTransactions(ctx.em, connection.selection));

@InputType('TransactionFilter', { description: 'Which transactions to list; every condition given must hold.' })
export class TransactionFilterInput {
  @Field(() => ID, { description: 'On this account of yours.', nullable: true }) accountId?: string | null;
  @Field(() => ID, { nullable: true, description: 'In this category, or with a part in it.' }) categoryId?: string | null;
  @Field(() => String, { nullable: true, description: 'In a category of this group (e.g. "Housing").' }) group?: string | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Booked at or after this time.' }) from?: Date | null;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Booked before this time.' }) to?: Date | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Signed minor units, inclusive (negative is money out).' }) minAmount?: number | null;
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Signed minor units, inclusive.' }) maxAmount?: number | null;
  @Field(() => String, { nullable: true, description: 'Payee contains this, ignoring case.' }) payee?: string | null;
  @Field(() => String, { nullable: true, description: 'Notes contain this, ignoring case.' }) notes?: string | null;
  @Field(() => String, { nullable: true, description: 'Payee or notes contain this, ignoring case.' }) search?: string | null;
  @Field(() => [String], { nullable: true, description: 'Has every one of these tags.' }) tags?: string[] | null;
  @Field(() => Boolean, { nullable: true, description: 'true: no category, no parts, not a transfer; false: all others.' }) uncategorized?: boolean | null;
}

@InputType('SplitInput', { description: 'One part of a split transaction.' })
class SplitInput {
  @Field(() => MoneyInput, { description: "In the transaction's currency; the parts sum to its amount." }) amount!: MoneyInput;
  @Field(() => ID, { description: 'One of your categories; null leaves the part uncategorised.', nullable: true }) categoryId?: string | null;
  @Field(() => String, { description: 'Free text for this part.', nullable: true }) notes?: string | null;
}

@InputType('RecordTransactionInput', { description: 'A transaction to record (recordTransaction).' })
class RecordTransactionInput {
  @Field(() => ID, { description: 'One of your accounts.' }) accountId!: string;
  @Field(() => MoneyInput, { description: "Negative for money out. Must be in the account's currency." }) amount!: MoneyInput;
  @Field(() => GraphQLDateTimeISO, { description: 'When the bank booked it (ISO 8601; stored in UTC).' }) bookedAt!: Date;
  @Field(() => String, { description: '1 to 200 characters.' }) payee!: string;
  @Field(() => ID, { nullable: true, description: "When omitted (and not split), your first matching rule's category." }) categoryId?: string | null;
  @Field(() => String, { description: 'Free text, up to 2000 characters.', nullable: true }) notes?: string | null;
  @Field(() => [String], { nullable: true, description: 'Up to 20 tags of 1 to 40 characters; stored lower-case.' }) tags?: string[] | null;
  @Field(() => [SplitInput], { nullable: true, description: '2 to 50 parts that sum to amount, each with its own category.' }) splits?: SplitInput[] | null;
}

@InputType('UpdateTransactionInput', { description: 'Only the fields sent change; null clears categoryId, notes and splits.' })
class UpdateTransactionInput {
  @Field(() => ID, { description: 'Moves the transaction to another of your accounts, in the same currency.', nullable: true }) accountId?: string | null;
  @Field(() => MoneyInput, { description: "Signed (negative is money out), in the account's currency.", nullable: true }) amount?: MoneyInput | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When the bank booked it (ISO 8601; stored in UTC).', nullable: true }) bookedAt?: Date | null;
  @Field(() => String, { description: '1 to 200 characters.', nullable: true }) payee?: string | null;
  @Field(() => ID, { description: 'One of your categories; null takes the category away.', nullable: true }) categoryId?: string | null;
  @Field(() => String, { description: 'Free text; null clears it.', nullable: true }) notes?: string | null;
  @Field(() => [String], { description: 'Replaces every tag: up to 20 of 1 to 40 characters, stored lower-case.', nullable: true }) tags?: string[] | null;
  @Field(() => [SplitInput], { nullable: true, description: 'The new parts; null or [] merges them back into one.' }) splits?: SplitInput[] | null;
}

@ObjectType('TransactionTotals', { description: 'A set of transactions summed in your home currency, each at the rate of its day.' })
class TransactionTotals {
  @Field(() => Int, { description: 'How many transactions match.' }) count!: number;
  @Field(() => Money, { description: 'Money in: the sum of positive amounts, in your home currency.' }) inflow!: Money;
  @Field(() => Money, { description: 'Money out: the sum of negative amounts (negative), in your home currency.' }) outflow!: Money;
  @Field(() => Money, { description: 'inflow plus outflow, in your home currency.' }) net!: Money;
}

@Resolver(() => Transaction)
export class TransactionResolver {
  @Authorized()
  @Query(() => Transaction, { nullable: true, description: 'One of your transactions. Any id that is not yours answers NOT_FOUND.' })
  async transaction(@Arg('id', () => ID, { description: 'One of your transactions.' }) id: string, @Ctx() ctx: BudgetContext): Promise<TransactionRecord> {
    requireUser(ctx);
    const transaction = isUuid(id) ? await ctx.em.findOne(TransactionRecord, { id }) : null;
    return visibleOrNotFound(requireUser(ctx), transaction, 'Transaction', id);
  }

  @Authorized()
  @Mutation(() => Transaction, { description: 'Records money in (positive) or out (negative) of one of your accounts.' })
  async recordTransaction(
    @Arg('input', () => RecordTransactionInput, { description: 'The transaction to record.' }) input: RecordTransactionInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<TransactionRecord> {
    const { id: userId } = requireUser(ctx);
    const transaction = await recordTransaction(ctx.em, userId, input);
    ctx.eventsRecorded();
    ctx.loaders.balance.clear(transaction.accountId);
    ctx.loaders.spent.clearAll();
    return transaction;
  }

  @Authorized()
  @Mutation(() => Transaction, {
    description: 'Changes one of your transactions if it is still at expectedVersion; otherwise CONFLICT, and nothing changes.',
  })
  async updateTransaction(
    @Arg('id', () => ID, { description: 'One of your transactions.' }) id: string,
    @Arg('expectedVersion', () => Int, { description: 'The version you read (Transaction.version); if the transaction changed since, the answer is CONFLICT.' })
    expectedVersion: number,
    @Arg('input', () => UpdateTransactionInput, { description: 'What to change; fields left out keep their value.' }) input: UpdateTransactionInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<TransactionRecord> {
    const { id: userId } = requireUser(ctx);
    const transaction = await updateTransaction(ctx.em, userId, id, expectedVersion, input);
    ctx.eventsRecorded();
    ctx.loaders.balance.clearAll();
    ctx.loaders.spent.clearAll();
    ctx.loaders.splits.clear(id);
    return transaction;
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: 'Removes one of your transactions (both legs of a transfer); with expectedVersion, only if nobody changed it since.',
  })
  async deleteTransaction(
    @Arg('id', () => ID, { description: 'One of your transactions.' }) id: string,
    @Ctx() ctx: BudgetContext,
    @Arg('expectedVersion', () => Int, {
      description: 'The version you read (Transaction.version); when given and the transaction changed since, the answer is CONFLICT.',
      nullable: true,
    })
    expectedVersion?: number | null,
  ): Promise<boolean> {
    const { id: userId } = requireUser(ctx);
    await deleteTransaction(ctx.em, userId, id, expectedVersion);
    ctx.eventsRecorded();
    ctx.loaders.balance.clearAll();
    ctx.loaders.spent.clearAll();
    return true;
  }

  @Authorized()
  @Mutation(() => [Transaction], { description: 'Gives up to 1000 of your transactions one category (or none, with null), all or nothing.' })
  async recategorizeTransactions(
    @Arg('ids', () => [ID], { description: '1 to 1000 of your transactions.' }) ids: string[],
    @Arg('categoryId', () => ID, { description: 'One of your categories; null takes the category away.', nullable: true }) categoryId: string | null,
    @Ctx() ctx: BudgetContext,
  ): Promise<TransactionRecord[]> {
    const { id: userId } = requireUser(ctx);
    const transactions = await recategorizeTransactions(ctx.em, userId, ids, categoryId ?? null);
    ctx.eventsRecorded();
    ctx.loaders.spent.clearAll();
    return transactions;
  }

  @FieldResolver(() => Money, { description: "Signed, in the account's currency (integer minor units): negative is money out." })
  amount(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, transaction.userId);
    return Money.of(transaction.amount, transaction.currency);
  }

  @FieldResolver(() => Account, { description: 'The account it belongs to.' })
  async account(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    const account = await ctx.loaders.account.load(transaction.accountId);
    if (!account) throw new Error(`account ${transaction.accountId} of transaction ${transaction.id} is missing`);
    return account;
  }

  @FieldResolver(() => Category, { nullable: true, description: 'Null when uncategorised, split (see splits) or a transfer.' })
  async category(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    if (!transaction.categoryId) return null;
    return (await ctx.loaders.category.load(transaction.categoryId)) ?? null;
  }

  @FieldResolver(() => [TransactionSplit], { description: 'The parts of a split transaction, empty otherwise.' })
  async splits(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<SplitView[]> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    return (await ctx.loaders.splits.load(transaction.id)).map((split) => ({ ...split, currency: transaction.currency }));
  }

  @FieldResolver(() => Transaction, { nullable: true, description: 'The other leg of a transfer.' })
  async counterpart(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<TransactionRecord | null> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    if (!transaction.transferId) return null;
    const legs = await ctx.loaders.transferLegs.load(transaction.transferId);
    return legs.find((leg) => leg.id !== transaction.id) ?? null;
  }
}

@Resolver(() => TransactionSplit)
export class TransactionSplitResolver {
  @FieldResolver(() => Money, { description: "This part's share, signed, in the transaction's currency." })
  amount(@Root() split: SplitView, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, split.userId);
    return Money.of(split.amount, split.currency);
  }

  @FieldResolver(() => Category, { description: "The part's category; null when uncategorised.", nullable: true })
  async category(@Root() split: SplitView, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    assertOwnerOrAdmin(ctx, split.userId);
    return split.categoryId ? ((await ctx.loaders.category.load(split.categoryId)) ?? null) : null;
  }
}

@Resolver(() => TransactionConnection)
export class TransactionConnectionResolver {
  @FieldResolver(() => Int, { description: 'How many transactions match the filter, across all pages.' })
  async totalCount(@Root() connection: TransactionConnection, @Ctx() ctx: BudgetContext): Promise<number> {
    return (await summaryOf(connection, ctx)).reduce((sum, t) => sum + t.count, 0);
  }

  @FieldResolver(() => [CurrencyTotals], { description: 'Sums of every transaction that matches the filter (all pages), per currency.' })
  async totals(@Root() connection: TransactionConnection, @Ctx() ctx: BudgetContext): Promise<CurrencyTotals[]> {
    return (await summaryOf(connection, ctx)).map(exactTotals).map((t) =>
      Object.assign(new CurrencyTotals(), {
        currency: t.currency,
        count: t.count,
        inflow: Money.of(t.inflow, t.currency),
        outflow: Money.of(t.outflow, t.currency),
        net: Money.of(t.net, t.currency),
      }),
    );
  }
}

@Resolver(() => User)
export class UserTransactionsResolver {
  @Authorized()
  @Directive('@tag(name: "consent")')
  @FieldResolver(() => TransactionConnection, { nullable: true, description: 'Your transactions, a page at a time, newest booking first unless sorted.' })
  async transactions(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('filter', () => TransactionFilterInput, { description: 'Which transactions; all when omitted.', nullable: true }) filter?: TransactionFilterInput | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: '1 to 200.' }) first?: number | null,
    @Arg('after', () => String, { nullable: true, description: 'endCursor of the previous page (in the same sort).' }) after?: string | null,
    @Arg('sort', () => TransactionSortEnum, { description: 'The order; ties are broken by id.', nullable: true, defaultValue: 'BOOKED_AT_DESC' }) sort?: TransactionSort | null,
  ): Promise<TransactionConnection> {
    assertOwnerOrAdmin(ctx, user.id);
    const size = checkPageSize(first);
    const order = sort ?? 'BOOKED_AT_DESC';
    const selection = selectTransactions(user.id, filter ?? {});
    const page = await pageTransactions(ctx.em, selection, order, size, after);
    const edges = page.nodes.map((node) => ({ cursor: encodeCursor(order, node), node }));
    return { ...pageOf(edges, page.hasNextPage), selection };
  }

  @Authorized()
  @Directive('@requires(fields: "homeCurrency")')
  @FieldResolver(() => TransactionTotals, {
    nullable: true,
    description: "Every transaction matching the filter, summed in your home currency at the rate of each transaction's day.",
  })
  async transactionTotals(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('filter', () => TransactionFilterInput, { description: 'Which transactions; all when omitted.', nullable: true }) filter?: TransactionFilterInput | null,
  ): Promise<TransactionTotals> {
    assertOwnerOrAdmin(ctx, user.id);
    const currency = checkHomeCurrency(user.homeCurrency);
    const totals = await convertedTotals(ctx.em, selectTransactions(user.id, filter ?? {}), currency);
    return {
      count: totals.count,
      inflow: Money.of(totals.inflow, currency),
      outflow: Money.of(totals.outflow, currency),
      net: Money.of(totals.net, currency),
    };
  }
}
