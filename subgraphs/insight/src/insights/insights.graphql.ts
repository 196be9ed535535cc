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
registerEnumType(InsightKindEnum, {
  description: 'What sort of finding an insight is.',
  name: 'InsightKind',
  valuesConfig: {
    SPENDING_SPIKE: { description: 'Spending in a category (in one currency) rose by more than 30 % against the period before.' },
    SAVING_SUGGESTION: { description: "At least 10 % of the period's income in a currency was left over: a chance to save it." },
    RISK_WARNING: { description: 'Spending in a currency exceeded income in the period.' },
    ANOMALY: { description: 'An unusual transaction (odd hour, amount or payee, or a likely duplicate), found by the inference worker.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Insight', { description: "Something worth knowing about the user's money, with the figures behind it." })
export class Insight {
  @Field(() => ID, { description: 'Id of the insight.' }) id!: string;
  @Field(() => ID, { description: "The owner's user id." }) userId!: string;
  @Field(() => InsightKindEnum, { description: 'What sort of finding it is.' }) kind!: InsightKind;
  @Field(() => String, { description: 'One line for lists and notifications.' }) title!: string;
  @Field(() => String, { description: 'The finding in a sentence or two, with its figures.' }) body!: string;
  @Field(() => ID, { nullable: true, description: 'The budget category it is about, if any.' }) categoryId!: string | null;
  @Field(() => ID, { nullable: true, description: 'The report it was derived from, if any.' }) reportId!: string | null;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was found (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When you dismissed it (UTC, ISO 8601); null while it is shown.', nullable: true }) dismissedAt!: Date | null;
}

@Resolver(() => Insight)
export class InsightResolver {
  @Authorized()
  @Mutation(() => Insight, { description: 'Hides one of your insights; it stays hidden when its report is generated again.' })
  async dismissInsight(@Arg('id', () => ID, { description: 'One of your insights.' }) id: string, @Ctx() ctx: InsightContext): Promise<InsightRecord> {
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
