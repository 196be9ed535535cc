import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput } from '@analytica/subgraph';
import { isUuid, visibleOrNotFound } from '@analytica/subgraph/access';
import { ensureDefaultCategories } from '../categories/categories.js';
import type { BudgetContext } from '../context.js';
import { User } from '../user/user.graphql.js';
import { AccountRecord, type AccountType } from './account.entity.js';
import { openAccount } from './accounts.js';

enum AccountTypeEnum {
  CHECKING = 'CHECKING',
  SAVINGS = 'SAVINGS',
  CREDIT_CARD = 'CREDIT_CARD',
  CASH = 'CASH',
  INVESTMENT = 'INVESTMENT',
}
registerEnumType(AccountTypeEnum, {
  name: 'AccountType',
  description: 'What kind of place the money is kept in.',
  valuesConfig: {
    SAVINGS: { description: 'A savings or deposit account.' },
    CREDIT_CARD: { description: 'A credit card: the balance is usually negative (what you owe).' },
    INVESTMENT: { description: 'A brokerage or investment account (cash held in it; positions are not tracked).' },
    CHECKING: { description: 'A current (checking) account for day-to-day payments.' },
    CASH: { description: 'Cash in hand or in a wallet.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Account', { description: 'A place money is kept: a bank account, a card, a wallet. One currency per account.' })
export class Account {
  // What a partner app reading a consenting user's transactions needs to know of their account
  // (the budget-with-consent contract); balances and the rest stay out of it.
  @Directive('@tag(name: "consent")')
  @Field(() => ID, { description: 'Id of the account.' })
  id!: string;
  @Directive('@tag(name: "consent")')
  @Field(() => String, { description: 'The name you gave the account, e.g. "Everyday account".' })
  name!: string;
  @Directive('@tag(name: "consent")')
  @Field(() => AccountTypeEnum, { description: 'What kind of account it is (checking, savings, card, cash, investment).' })
  type!: AccountType;
  @Directive('@tag(name: "consent")')
  @Field(() => String, { description: 'ISO 4217 code; every transaction of the account is in it.' })
  currency!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the account was opened in Analytica (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Set when the account was closed; its history stays.' }) archivedAt!: Date | null;
}

@InputType('OpenAccountInput', { description: 'A new account (openAccount).' })
class OpenAccountInput {
  @Field(() => String, { description: '1 to 100 characters, e.g. "Everyday account".' }) name!: string;
  @Field(() => AccountTypeEnum, { description: 'What kind of account it is.' }) type!: AccountType;
  @Field(() => String, { description: 'ISO 4217 code, e.g. EUR.' }) currency!: string;
  @Field(() => MoneyInput, { nullable: true, description: 'What the account held before its first recorded transaction; 0 when omitted.' })
  openingBalance?: MoneyInput | null;
}

/** The loader resolves an id to a record of any user; the caller sees it only if it is theirs. */
export async function loadVisibleAccount(ctx: BudgetContext, id: string): Promise<AccountRecord> {
  requireUser(ctx);
  const account = isUuid(id) ? await ctx.loaders.account.load(id) : undefined;
  return visibleOrNotFound(requireUser(ctx), account, 'Account', id);
}

@Resolver(() => Account)
export class AccountResolver {
  @Authorized()
  @Query(() => Account, { nullable: true, description: 'One of your accounts. Any id that is not yours answers NOT_FOUND.' })
  account(@Arg('id', () => ID, { description: 'One of your accounts.' }) id: string, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    return loadVisibleAccount(ctx, id);
  }

  @Authorized()
  @Mutation(() => Account, { description: 'Opens an account in one currency, optionally with what it already holds.' })
  async openAccount(@Arg('input', () => OpenAccountInput, { description: 'The account to open.' }) input: OpenAccountInput, @Ctx() ctx: BudgetContext): Promise<AccountRecord> {
    const { id: userId } = requireUser(ctx);
    const account = await openAccount(ctx.em, userId, input);
    await ensureDefaultCategories(ctx.em, userId);
    return account;
  }

  @FieldResolver(() => Money, {
    description: "What the account held before its first recorded transaction, in the account's currency (integer minor units). Only you and administrators see it.",
  })
  openingBalance(@Root() account: AccountRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, account.userId);
    return Money.of(account.openingBalance, account.currency);
  }

  @FieldResolver(() => Money, { description: 'Opening balance plus every transaction, exact to the minor unit.' })
  async balance(@Root() account: AccountRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, account.userId);
    return Money.of(await ctx.loaders.balance.load(account.id), account.currency);
  }
}

@Resolver(() => User)
export class UserAccountsResolver {
  @Authorized()
  @FieldResolver(() => [Account], { nullable: true, description: 'Open and closed accounts, oldest first.' })
  async accounts(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<AccountRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    const accounts = await ctx.em.find(AccountRecord, { userId: user.id }, { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    for (const account of accounts) ctx.loaders.account.prime(account.id, account);
    return accounts;
  }
}
