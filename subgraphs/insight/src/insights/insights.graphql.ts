import { Arg, Authorized, Ctx, Directive, Field, ID, Mutation, ObjectType, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { subscribeThroughGateway } from '@analytica/subgraph';
import type { InsightContext } from '../context.js';
import type { InsightKind } from './insight-rules.js';
import type { InsightRecord } from './insight.entity.js';
import { dismissInsight } from './insights.js';

enum InsightKindEnum {
  SPENDING_SPIKE = 'SPENDING_SPIKE',
  SAVING_SUGGESTION = 'SAVING_SUGGESTION',
  RISK_WARNING = 'RISK_WARNING',
  ANOMALY = 'ANOMALY',
}
registerEnumType(InsightKindEnum, { name: 'InsightKind' });

@Directive('@key(fields: "id")')
@ObjectType('Insight', { description: "Something worth knowing about the user's money, with the figures behind it." })
export class Insight {
  @Field(() => ID) id!: string;
  @Field(() => ID) userId!: string;
  @Field(() => InsightKindEnum) kind!: InsightKind;
  @Field(() => String) title!: string;
  @Field(() => String) body!: string;
  @Field(() => ID, { nullable: true, description: 'The budget category it is about, if any.' }) categoryId!: string | null;
  @Field(() => ID, { nullable: true, description: 'The report it was derived from, if any.' }) reportId!: string | null;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true }) dismissedAt!: Date | null;
}

@Resolver(() => Insight)
export class InsightResolver {
  @Authorized()
  @Mutation(() => Insight, { description: 'Hides one of your insights; it stays hidden when its report is generated again.' })
  async dismissInsight(@Arg('id', () => ID) id: string, @Ctx() ctx: InsightContext): Promise<InsightRecord> {
    return dismissInsight(ctx.em, requireUser(ctx).id, id);
  }
}

@Resolver()
export class InsightSubscription {
  @Subscription(() => Insight, {
    subscribe: subscribeThroughGateway,
    description:
      'Your insights as they are created (yours only), e.g. by generateReport or an unusual transaction (ANOMALY); one found again when a report is regenerated is not new.',
  })
  insightCreated(@Root() insight: InsightRecord): InsightRecord {
    return insight;
  }
}
