import { requireUser } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { isUuid, notFoundAt, visibleOrNotFound } from './access.js';
import { BudgetRecord } from './budgets.js';
import { RuleRecord } from './rules.js';
import { ScheduleRecord } from './schedules.js';
import { AccountResolver, loadVisibleAccount, UserAccountsResolver } from './schema-accounts.js';
import { BudgetResolver, UserBudgetsResolver } from './schema-budgets.js';
import { CategoryResolver, UserCategoriesResolver } from './schema-categories.js';
import { ImportLineResolver, ImportResolver } from './schema-imports.js';
import { RuleResolver, UserRulesResolver } from './schema-rules.js';
import { ScheduleResolver, UserSchedulesResolver } from './schema-schedules.js';
import {
  TransactionConnectionResolver,
  TransactionResolver,
  TransactionSplitResolver,
  UserTransactionsResolver,
} from './schema-transactions.js';
import { BudgetLiveSubscription, budgetOverspentReference, BudgetOverspentResolver } from './schema-live.js';
import { TransferResolver } from './schema-transfers.js';
import { User, type BudgetContext } from './schema-user.js';

/**
 * `_entities` lookups are reads by id: another user's object answers NOT_FOUND, exactly like one
 * that does not exist, so that the gateway path cannot be used to probe ids either.
 */
async function findVisible<T extends { userId: string }>(ctx: BudgetContext, what: string, id: string, find: () => Promise<T | null | undefined>) {
  requireUser(ctx);
  return visibleOrNotFound(ctx, isUuid(id) ? await find() : null, what, id);
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
      TransferResolver,
      BudgetResolver,
      UserBudgetsResolver,
      RuleResolver,
      UserRulesResolver,
      ScheduleResolver,
      UserSchedulesResolver,
      ImportResolver,
      ImportLineResolver,
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
          if (!isUuid(ref.id)) throw notFoundAt(undefined, 'User', ref.id);
          // Present when the gateway resolves a field that @requires it (reports).
          return { ...user, homeCurrency: ref.homeCurrency };
        },
      },
      Account: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => loadVisibleAccount(ctx, ref.id),
      },
      Category: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) =>
          findVisible(ctx, 'Category', ref.id, () => ctx.loaders.category.load(ref.id)),
      },
      Transaction: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) =>
          findVisible(ctx, 'Transaction', ref.id, () => ctx.loaders.transaction.load(ref.id)),
      },
      Budget: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) =>
          findVisible(ctx, 'Budget', ref.id, () => ctx.em.findOne(BudgetRecord, { id: ref.id })),
      },
      Rule: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) => findVisible(ctx, 'Rule', ref.id, () => ctx.em.findOne(RuleRecord, { id: ref.id })),
      },
      Schedule: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) =>
          findVisible(ctx, 'Schedule', ref.id, () => ctx.em.findOne(ScheduleRecord, { id: ref.id })),
      },
      BudgetOverspent: { __resolveReference: budgetOverspentReference },
    },
  });
}
