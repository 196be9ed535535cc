import { requireUser } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { isUuid, visibleOrNotFound } from '@analytica/subgraph/access';
import { notFound } from '@analytica/errors';
import { BudgetRecord } from './budgets/budget.entity.js';
import { RuleRecord } from './rules/rule.entity.js';
import { ScheduleRecord } from './schedules/schedule.entity.js';
import type { BudgetContext } from './context.js';
// The order of these imports is the order in which type-graphql meets the types and fields, and so
// the order of the printed SDL (schema/subgraphs/budget.graphql): keep it, or run schema:print.
import { AccountResolver, loadVisibleAccount, UserAccountsResolver } from './accounts/accounts.graphql.js';
import { BudgetResolver, UserBudgetsResolver } from './budgets/budgets.graphql.js';
import { CategoryResolver, UserCategoriesResolver } from './categories/categories.graphql.js';
import { ImportLineResolver, ImportResolver } from './imports/imports.graphql.js';
import { StatementUploadResolver } from './uploads/uploads.graphql.js';
import { ExchangeRateResolver } from './exchange-rates/exchange-rates.graphql.js';
import { RuleResolver, UserRulesResolver } from './rules/rules.graphql.js';
import { ScheduleResolver, UserSchedulesResolver } from './schedules/schedules.graphql.js';
import { TransactionConnectionResolver, TransactionResolver, TransactionSplitResolver, UserTransactionsResolver } from './transactions/transactions.graphql.js';
import { SuggestedCategoryResolver, TransactionSuggestionResolver, UserSuggestionPreferencesResolver } from './suggestions/suggestions.graphql.js';
import { BudgetLiveSubscription, budgetOverspentReference, BudgetOverspentResolver } from './live/live.graphql.js';
import { TransferResolver } from './transfers/transfers.graphql.js';
import { User } from './user/user.graphql.js';

/**
 * `_entities` lookups are reads by id: another user's object answers NOT_FOUND, exactly like one
 * that does not exist, so that the gateway path cannot be used to probe ids either.
 */
async function findVisible<T extends { userId: string }>(ctx: BudgetContext, what: string, id: string, find: () => Promise<T | null | undefined>) {
  requireUser(ctx);
  return visibleOrNotFound(requireUser(ctx), isUuid(id) ? await find() : null, what, id);
}

export function buildBudgetSchema() {
  return buildFederatedSchema({
    resolvers: [
      AccountResolver,
      UserAccountsResolver,
      CategoryResolver,
      UserCategoriesResolver,
      TransactionResolver,
      TransactionSplitResolver,
      TransactionConnectionResolver,
      UserTransactionsResolver,
      TransactionSuggestionResolver,
      SuggestedCategoryResolver,
      UserSuggestionPreferencesResolver,
      TransferResolver,
      BudgetResolver,
      UserBudgetsResolver,
      RuleResolver,
      UserRulesResolver,
      ScheduleResolver,
      UserSchedulesResolver,
      ImportResolver,
      StatementUploadResolver,
      ImportLineResolver,
      ExchangeRateResolver,
      BudgetLiveSubscription,
      BudgetOverspentResolver,
    ],
    // Nothing in this subgraph returns a User; it is reached through the gateway by its key.
    orphanedTypes: [User],
    referenceResolvers: {
      User: {
        __resolveReference: async (ref: { id: string; homeCurrency?: string }, ctx: BudgetContext) => {
          const user = await userReference().__resolveReference(ref, ctx);
          // Only an admin gets here with someone else's id; a malformed one names nobody.
          if (!isUuid(ref.id)) throw notFound('User', ref.id);
          // Present when the gateway resolves a field that @requires it (reports).
          return { ...user, homeCurrency: ref.homeCurrency };
        },
      },
      Account: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => loadVisibleAccount(ctx, ref.id),
      },
      Category: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Category', ref.id, () => ctx.loaders.category.load(ref.id)),
      },
      Transaction: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Transaction', ref.id, () => ctx.loaders.transaction.load(ref.id)),
      },
      Budget: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Budget', ref.id, () => ctx.em.findOne(BudgetRecord, { id: ref.id })),
      },
      Rule: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Rule', ref.id, () => ctx.em.findOne(RuleRecord, { id: ref.id })),
      },
      Schedule: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Schedule', ref.id, () => ctx.em.findOne(ScheduleRecord, { id: ref.id })),
      },
      BudgetOverspent: { __resolveReference: budgetOverspentReference },
    },
  });
}
