import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money } from '@analytica/subgraph';
import { Category, categoryRef } from '../category.graphql.js';
import type { InsightContext } from '../context.js';
import { totalsByCurrency, type CashFlow } from '../insights/insight-rules.js';
import { formatDay, parseDay, periodEnd, type ReportPeriod } from '../periods.js';
import type { ReportRecord } from './report.entity.js';
import { findReport, generateReport } from './reports.js';

export enum ReportPeriodEnum {
  MONTHLY = 'MONTHLY',
  WEEKLY = 'WEEKLY',
}
registerEnumType(ReportPeriodEnum, {
  name: 'ReportPeriod',
  description: 'A calendar month, or an ISO week from Monday to Sunday (UTC).',
  valuesConfig: { MONTHLY: { description: 'A calendar month (UTC), from the 1st.' }, WEEKLY: { description: 'An ISO week (UTC), from Monday.' } },
});

enum CashFlowEnum {
  INCOME = 'INCOME',
  SPENDING = 'SPENDING',
}
registerEnumType(CashFlowEnum, {
  name: 'CashFlow',
  description: 'Money received (INCOME) or paid out (SPENDING).',
  valuesConfig: { INCOME: { description: 'Money received.' }, SPENDING: { description: 'Money paid out.' } },
});

@ObjectType('ReportLine', { description: 'What went in or out in one category and currency during the period.' })
class ReportLine {
  @Field(() => CashFlowEnum, { description: 'Whether the line is money in or out.' }) flow!: CashFlow;
  @Field(() => ID, { nullable: true, description: 'The budget category; null for uncategorised transactions.' }) categoryId!: string | null;
  @Field(() => Category, {
    nullable: true,
    description: 'The budget category, with its name as it is now; null for uncategorised transactions (and, with a NOT_FOUND error, for a category deleted since).',
  })
  category!: Category | null;
  @Field(() => Money, { description: 'Positive in both directions: money received, or money spent.' }) total!: Money;
  @Field(() => Int, { description: 'How many transactions make up the total.' }) count!: number;
}

@ObjectType('ReportTotal', { description: "One currency's totals; currencies are never converted or mixed." })
class ReportTotal {
  @Field(() => String, { description: 'ISO 4217 code of this total.' }) currency!: string;
  @Field(() => Money, { description: 'Money received in the period.' }) income!: Money;
  @Field(() => Money, { description: 'Money paid out in the period (positive).' }) spending!: Money;
  @Field(() => Money, { description: 'Income minus spending.' }) net!: Money;
}

@Directive('@key(fields: "id")')
@ObjectType('Report', { description: "A user's income and spending over one month or week, built from their recorded transactions." })
export class Report {
  @Field(() => ID, { description: 'Id of the report.' }) id!: string;
  @Field(() => ID, { description: "The owner's user id." }) userId!: string;
  @Field(() => ReportPeriodEnum, { description: 'Month or week.' }) period!: ReportPeriod;
  @Field(() => String, { description: 'First day, YYYY-MM-DD: the 1st of the month or the Monday of the week.' }) startsOn!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the period was first generated (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { description: 'When the figures were last computed; generating the period again refreshes them.' })
  generatedAt!: Date;
}

@Resolver(() => Report)
export class ReportResolver {
  @Authorized()
  @Query(() => Report, { nullable: true, description: "One of your reports. Another user's id is NOT_FOUND." })
  async report(@Arg('id', () => ID, { description: 'One of your reports.' }) id: string, @Ctx() ctx: InsightContext): Promise<ReportRecord> {
    return findReport(ctx.em, requireUser(ctx), id);
  }

  @Authorized()
  @Mutation(() => Report, {
    description:
      'Builds your report for the period containing startsOn (moved back to the 1st of the month or the Monday of the week) ' +
      'and derives insights against the period before. Generating a period again refreshes the same report.',
  })
  async generateReport(
    @Arg('period', () => ReportPeriodEnum, { description: 'A month or an ISO week.' }) period: ReportPeriod,
    @Arg('startsOn', () => String, { description: 'A date in the period, YYYY-MM-DD.' }) startsOn: string,
    @Ctx() ctx: InsightContext,
  ): Promise<ReportRecord> {
    const { report, createdInsights } = await generateReport(ctx.em, requireUser(ctx).id, period, startsOn);
    await ctx.insightsCreated(createdInsights);
    return report;
  }

  @Authorized()
  @FieldResolver(() => String, { description: 'Last day of the period, YYYY-MM-DD (inclusive).' })
  endsOn(@Root() report: ReportRecord, @Ctx() ctx: InsightContext): string {
    assertOwnerOrAdmin(ctx, report.userId);
    const end = periodEnd(report.period, parseDay(report.startsOn, 'startsOn'));
    return formatDay(new Date(end.getTime() - 86_400_000));
  }

  @Authorized()
  @FieldResolver(() => [ReportLine], { description: 'Spending lines first, then income; the largest first within a currency.' })
  async lines(@Root() report: ReportRecord, @Ctx() ctx: InsightContext): Promise<ReportLine[]> {
    assertOwnerOrAdmin(ctx, report.userId);
    const lines = await ctx.loaders.reportLines.load(report.id);
    return lines
      .map((line) => ({ flow: line.flow, categoryId: line.categoryId, category: categoryRef(line.categoryId), total: Money.of(line.totalMinor, line.currency), count: line.count }))
      .sort((a, b) => (a.flow === b.flow ? 0 : a.flow === 'SPENDING' ? -1 : 1));
  }

  @Authorized()
  @FieldResolver(() => [ReportTotal], { description: 'Income, spending and net per currency, in currency order.' })
  async totals(@Root() report: ReportRecord, @Ctx() ctx: InsightContext): Promise<ReportTotal[]> {
    assertOwnerOrAdmin(ctx, report.userId);
    const lines = await ctx.loaders.reportLines.load(report.id);
    return totalsByCurrency(lines).map(({ currency, incomeMinor, spendingMinor }) => ({
      currency,
      income: Money.of(incomeMinor, currency),
      spending: Money.of(spendingMinor, currency),
      net: Money.of(incomeMinor - spendingMinor, currency),
    }));
  }
}
