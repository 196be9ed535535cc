import { Arg, Ctx, Directive, Field, FieldResolver, ID, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { Money, subscribeThroughGateway } from '@analytica/subgraph';
import { isUuid, visibleOrNotFound } from '@analytica/subgraph/access';
import { notFound } from '@analytica/errors';
import type { AccountRecord } from '../accounts/account.entity.js';
import { Account } from '../accounts/accounts.graphql.js';
import { BudgetRecord, type BudgetPeriod } from '../budgets/budget.entity.js';
import { Budget, BudgetPeriodEnum } from '../budgets/budgets.graphql.js';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import { decodeBudgetOverspentId } from './live.js';

/**
 * The budget's live streams, served by the gateway from what the outbox relay publishes (live.ts).
 * Neither is public: an account stream is checked with the account's owner rule (another user's
 * account is NOT_FOUND, as for the `account` query), and overspending is the caller's own.
 */

/**
 * A caller event that is also an entity: its key encodes the event (live.ts), so the gateway
 * answers from the published payload when it holds every field selected, and otherwise fetches
 * the event here by its key with the subscriber's token, which resolves the budget and category
 * as queries do.
 */
@Directive('@key(fields: "id")')
@ObjectType('BudgetOverspent', { description: 'One of your budgets went over its limit: spending in its category and period rose above the amount.' })
export class BudgetOverspent {
  @Field(() => ID, { description: 'The same if the event is delivered twice, so a client can drop the repeat.' }) id!: string;
  @Field(() => ID, { description: 'Id of the budget that went over.' }) budgetId!: string;
  @Field(() => BudgetPeriodEnum, { description: "The budget's period: a month or an ISO week." }) period!: BudgetPeriod;
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD.' }) startsOn!: string;
  @Field(() => Money, { description: "The budget's amount when it went over." }) limit!: Money;
  @Field(() => Money, { description: 'Spending in the category and period when it went over (other currencies at the rate of their day).' }) spent!: Money;
  @Field(() => GraphQLDateTimeISO, { description: 'When the change that took it over was recorded (UTC).' }) crossedAt!: Date;
}

@Resolver(() => BudgetOverspent)
export class BudgetOverspentResolver {
  @FieldResolver(() => Budget, { description: 'The budget as it is now.' })
  async budget(@Root() event: BudgetOverspent, @Ctx() ctx: BudgetContext): Promise<BudgetRecord> {
    return visibleOrNotFound(requireUser(ctx), isUuid(event.budgetId) ? await ctx.em.findOne(BudgetRecord, { id: event.budgetId }) : null, 'Budget', event.budgetId);
  }

  @FieldResolver(() => Category, { nullable: true, description: "The budget's category as it is now." })
  async category(@Root() event: BudgetOverspent, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    const budget = await this.budget(event, ctx);
    return (await ctx.loaders.category.load(budget.categoryId)) ?? null;
  }
}

/**
 * `_entities` for a BudgetOverspent: the event its key names, if its budget is the caller's (else
 * NOT_FOUND, as for every budget object).
 */
export async function budgetOverspentReference(reference: { id: string }, ctx: BudgetContext): Promise<BudgetOverspent> {
  requireUser(ctx);
  const id = String(reference.id);
  const event = decodeBudgetOverspentId(id);
  if (!event) throw notFound('Budget overspending', id);
  const budget = visibleOrNotFound(requireUser(ctx), isUuid(event.budgetId) ? await ctx.em.findOne(BudgetRecord, { id: event.budgetId }) : null, 'Budget overspending', id);
  return {
    id,
    budgetId: budget.id,
    period: budget.period,
    startsOn: budget.startsOn,
    limit: Money.of(Number(event.limitMinor), event.currency),
    spent: Money.of(Number(event.spentMinor), event.currency),
    crossedAt: new Date(event.crossedAt),
  };
}

@Resolver()
export class BudgetLiveSubscription {
  @Subscription(() => BudgetOverspent, {
    subscribe: subscribeThroughGateway,
    description: 'Your budgets as they go over their limit (yours only): once per crossing; going back under and over again is a new one.',
  })
  budgetOverspent(@Root() event: BudgetOverspent): BudgetOverspent {
    return event;
  }

  @Subscription(() => Account, {
    subscribe: subscribeThroughGateway,
    description:
      'One of your accounts now, then again after each change to its transactions (recorded, edited, deleted, imported, or booked from a payment), ' +
      'with its balance as of that change. A burst of changes may arrive as the latest state only. Any account that is not yours is NOT_FOUND.',
  })
  transactionsChanged(@Arg('accountId', () => ID, { description: 'One of your accounts.' }) _accountId: string, @Root() account: AccountRecord): AccountRecord {
    return account;
  }
}
