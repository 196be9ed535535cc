import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, ObjectType, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin } from '@analytica/auth';
import type { InsightContext } from '../context.js';
import type { InsightRecord } from '../insights/insight.entity.js';
import { listInsights } from '../insights/insights.js';
import { Insight } from '../insights/insights.graphql.js';
import type { ReportRecord } from '../reports/report.entity.js';
import { listReports } from '../reports/reports.js';
import { Report } from '../reports/reports.graphql.js';

/** The user service's entity: the insight subgraph only hangs the user's reports and insights on its key. */
@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' }) id!: string;
}

@Resolver(() => User)
export class UserInsightsResolver {
  @Authorized()
  @FieldResolver(() => [Report], { nullable: true, description: "The user's reports, latest period first." })
  async reports(@Root() user: User, @Ctx() ctx: InsightContext): Promise<ReportRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listReports(ctx.em, user.id);
  }

  @Authorized()
  @FieldResolver(() => [Insight], { nullable: true, description: "The user's insights, newest first; dismissed ones only when asked for." })
  async insights(
    @Root() user: User,
    @Arg('includeDismissed', () => Boolean, { description: 'true to include the insights you dismissed.', nullable: true, defaultValue: false }) includeDismissed: boolean | null,
    @Ctx() ctx: InsightContext,
  ): Promise<InsightRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return listInsights(ctx.em, user.id, includeDismissed ?? false);
  }
}
