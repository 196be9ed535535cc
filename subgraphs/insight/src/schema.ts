import { requireUser } from '@analytica/auth';
import { buildFederatedSchema, userReference } from '@analytica/subgraph';
import type { InsightContext } from './context.js';
import { findInsight } from './insights/insights.js';
import { InsightFiguresResolver, InsightResolver, InsightSubscription } from './insights/insights.graphql.js';
import { findReport } from './reports/reports.js';
import { ReportResolver } from './reports/reports.graphql.js';
import { User, UserInsightsResolver } from './user/user.graphql.js';

export function buildInsightSchema() {
  return buildFederatedSchema({
    resolvers: [UserInsightsResolver, ReportResolver, InsightResolver, InsightFiguresResolver, InsightSubscription],
    // Nothing returns a User here: without this, type-graphql would leave the type (and its fields) out.
    orphanedTypes: [User],
    referenceResolvers: {
      User: userReference(),
      // Looked up by id, so another user's object is NOT_FOUND, exactly as the report query answers.
      Report: {
        __resolveReference: (reference: { id: string }, ctx: InsightContext) => findReport(ctx.em, requireUser(ctx), reference.id),
      },
      Insight: {
        __resolveReference: (reference: { id: string }, ctx: InsightContext) => findInsight(ctx.em, requireUser(ctx), reference.id),
      },
    },
  });
}
