import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, ObjectType, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import { buildFederatedSchema, userReference, type SubgraphContext } from '@analytica/subgraph';
import { Insight, InsightResolver, InsightSubscription } from './insight-schema.js';
import { findInsight, listInsights, type InsightRecord } from './insights.js';
import { Report, ReportResolver } from './report-schema.js';
import { findReport, listReports, reportLinesLoader, type ReportRecord } from './reports.js';

export interface InsightContext extends SubgraphContext {
  em: EntityManager;
  loaders: { reportLines: ReturnType<typeof reportLinesLoader> };
  /** Tells the owners of insights just created (committed) about them, live; never throws. */
  insightsCreated(insights: readonly InsightRecord[]): Promise<void>;
}

export function insightContext(base: SubgraphContext, em: EntityManager, insightsCreated: InsightContext['insightsCreated'] = async () => {}): InsightContext {
  return { ...base, em, loaders: { reportLines: reportLinesLoader(em) }, insightsCreated };
}

@Directive('@key(fields: "id")')
@ObjectType('User')
class User {
  @Field(() => ID) id!: string;
}

@Resolver(() => User)
class UserInsightsResolver {
  @Authorized()
  @FieldResolver(() => [Report], { nullable: true, description: 'The user\'s reports, latest period first.' })
  async reports(@Root() user: User, @Ctx() ctx: InsightContext): Promise<ReportRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listReports(ctx.em, user.id);
  }

  @Authorized()
  @FieldResolver(() => [Insight], { nullable: true, description: 'The user\'s insights, newest first; dismissed ones only when asked for.' })
  async insights(
    @Root() user: User,
    @Arg('includeDismissed', () => Boolean, { nullable: true, defaultValue: false }) includeDismissed: boolean | null,
    @Ctx() ctx: InsightContext,
  ): Promise<InsightRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listInsights(ctx.em, user.id, includeDismissed ?? false);
  }
}

export function buildInsightSchema() {
  return buildFederatedSchema({
    resolvers: [UserInsightsResolver, ReportResolver, InsightResolver, InsightSubscription],
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
