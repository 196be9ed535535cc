import { requireUser } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import { isUuid, notFoundAt, visibleOrNotFound } from './access.js';
import { BudgetRecord } from './budgets.js';
import { AccountResolver, loadVisibleAccount, UserAccountsResolver } from './schema-accounts.js';
import { BudgetResolver, UserBudgetsResolver } from './schema-budgets.js';
import { UserCategoriesResolver } from './schema-categories.js';
import { TransactionConnectionResolver, TransactionResolver, UserTransactionsResolver } from './schema-transactions.js';
import { User, type BudgetContext } from './schema-user.js';
import { TransactionRecord } from './transactions.js';

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
      UserCategoriesResolver,
      TransactionResolver,
      TransactionConnectionResolver,
      UserTransactionsResolver,
      BudgetResolver,
      UserBudgetsResolver,
    ],
    // Nothing in this subgraph returns a User; it is reached through the gateway by its key.
    orphanedTypes: [User],
    referenceResolvers: {
      User: {
        __resolveReference: async (ref: { id: string }, ctx: BudgetContext) => {
          const user = await userReference().__resolveReference(ref, ctx);
          // Only an admin gets here with someone else's id; a malformed one names nobody.
          if (!isUuid(ref.id)) throw notFoundAt(undefined, 'User', ref.id);
          return user;
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
          findVisible(ctx, 'Transaction', ref.id, () => ctx.em.findOne(TransactionRecord, { id: ref.id })),
      },
      Budget: {
        __resolveReference: (ref: { id: string }, ctx: BudgetContext) =>
          findVisible(ctx, 'Budget', ref.id, () => ctx.em.findOne(BudgetRecord, { id: ref.id })),
      },
    },
  });
}
