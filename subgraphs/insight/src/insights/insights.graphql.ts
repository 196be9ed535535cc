import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Mutation, ObjectType, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, subscribeThroughGateway } from '@analytica/subgraph';
import type { ReportPeriod } from '../periods.js';
import { ReportPeriodEnum } from '../reports/reports.graphql.js';
import { Category, categoryRef } from '../category.graphql.js';
import type { InsightContext } from '../context.js';
import type { InsightKind } from './insight-rules.js';
import type { InsightRecord } from './insight.entity.js';
import { dismissInsight } from './insights.js';

enum InsightKindEnum {
  SPENDING_SPIKE = 'SPENDING_SPIKE',
  SAVING_SUGGESTION = 'SAVING_SUGGESTION',
  RISK_WARNING = 'RISK_WARNING',
  ANOMALY = 'ANOMALY',
  BUDGET_FORECAST = 'BUDGET_FORECAST',
  INVESTMENT_SUGGESTION = 'INVESTMENT_SUGGESTION',
}
registerEnumType(InsightKindEnum, {
  description: 'What sort of finding an insight is.',
  name: 'InsightKind',
  valuesConfig: {
    SPENDING_SPIKE: { description: 'Spending in a category (in one currency) rose by more than 30 % against the period before.' },
    SAVING_SUGGESTION: {
      description:
        "At least 10 % of the period's income in a currency was left over: a chance to save it; or, on a monthly report, in each of the last 3 months: a standing transfer of the smallest surplus.",
    },
    RISK_WARNING: { description: 'Spending in a currency exceeded income in the period, or (on a monthly report) in each of the last 3 months.' },
    ANOMALY: { description: 'An unusual transaction (odd hour, amount or payee, or a likely duplicate), found by the inference worker.' },
    BUDGET_FORECAST: {
      description:
        "A budget heading over its limit by the end of its period, projected from this and earlier periods' spending; updated as transactions arrive, removed when the projection falls within the limit.",
    },
    INVESTMENT_SUGGESTION: {
      description: 'On a monthly report: more of your income in a currency was kept over the last 6 months than a buffer of 3 months of spending; the rest could be invested.',
    },
  },
});

@ObjectType('InsightFigure', { description: 'One amount an insight rests on.' })
export class InsightFigure {
  @Field(() => String, { description: 'What the amount is, a stable name such as spent, limit, projected, income or spending.' }) name!: string;
  @Field(() => Money, { description: 'The amount.' }) amount!: Money;
}

@ObjectType('BudgetForecast', { description: "Where a budget's spending is heading by the end of its period, and the figures the projection rests on." })
export class BudgetForecast {
  @Field(() => ID, { description: 'The budget (of the budget subgraph).' }) budgetId!: string;
  @Field(() => ReportPeriodEnum, { description: 'Month or week.' }) period!: ReportPeriod;
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD.' }) startsOn!: string;
  @Field(() => String, { description: 'Last day of the period, YYYY-MM-DD (inclusive).' }) endsOn!: string;
  @Field(() => Money, { description: 'Spent in the period so far, net of refunds.' }) spent!: Money;
  @Field(() => Money, { description: "The budget's limit." }) limit!: Money;
  @Field(() => Money, { description: 'Expected spending at the end of the period.' }) projected!: Money;
  @Field(() => Money, { description: 'Projected minus limit: how far over the budget spending is heading.' }) overBy!: Money;
  @Field(() => Money, { description: 'The expected spending per day for the rest of the period, recurring payments left out.' }) dailyRate!: Money;
  @Field(() => Money, { description: 'Recurring payments (rent, subscriptions) still expected in the period, counted once each.' }) recurringDue!: Money;
  @Field(() => String, { nullable: true, description: 'The day spending passed the limit, or is expected to, YYYY-MM-DD.' }) crossingOn!: string | null;
  @Field(() => Boolean, { description: 'Whether spending is already over the limit.' }) exceeded!: boolean;
}

/** The figures of an insight in their GraphQL shape (also the live payload's). */
export function figuresOf(insight: InsightRecord): { figures: InsightFigure[]; forecast: BudgetForecast | null } {
  const figures = (insight.figures?.amounts ?? []).map((a) => ({ name: a.name, amount: Money.of(a.amountMinor, a.currency) }));
  const f = insight.figures?.forecast;
  const m = (minor: number) => Money.of(minor, f!.currency);
  const forecast = f
    ? {
        budgetId: f.budgetId,
        period: f.period,
        startsOn: f.startsOn,
        endsOn: f.endsOn,
        spent: m(f.spentMinor),
        limit: m(f.limitMinor),
        projected: m(f.projectedMinor),
        overBy: m(f.overByMinor),
        dailyRate: m(f.dailyRateMinor),
        recurringDue: m(f.recurringDueMinor),
        crossingOn: f.crossingOn,
        exceeded: f.exceeded,
      }
    : null;
  return { figures, forecast };
}

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
export class InsightFiguresResolver {
  @Authorized()
  @FieldResolver(() => [InsightFigure], { description: 'The amounts it rests on (empty on insights found before they were kept).' })
  figures(@Root() insight: InsightRecord, @Ctx() ctx: InsightContext): InsightFigure[] {
    assertOwnerOrAdmin(ctx, insight.userId);
    return figuresOf(insight).figures;
  }

  @Authorized()
  @FieldResolver(() => Category, {
    nullable: true,
    description: 'The budget category it is about, with its name as it is now; null when it is about none (and, with a NOT_FOUND error, for a category deleted since).',
  })
  category(@Root() insight: InsightRecord, @Ctx() ctx: InsightContext): Category | null {
    assertOwnerOrAdmin(ctx, insight.userId);
    return categoryRef(insight.categoryId);
  }

  @Authorized()
  @FieldResolver(() => BudgetForecast, { nullable: true, description: 'For a BUDGET_FORECAST: the projection and what it rests on; null for other kinds.' })
  forecast(@Root() insight: InsightRecord, @Ctx() ctx: InsightContext): BudgetForecast | null {
    assertOwnerOrAdmin(ctx, insight.userId);
    return figuresOf(insight).forecast;
  }
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
