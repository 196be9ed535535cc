import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput } from '@analytica/subgraph';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import { isoDate } from '../days.js';
import { budgetReport, checkHomeCurrency, type BudgetReportLine } from '../reports/reports.js';
import { User } from '../user/user.graphql.js';
import { BudgetRecord, type BudgetPeriod, type Rollover } from './budget.entity.js';
import { copyPreviousBudgets, periodLastDay, setBudget } from './budgets.js';

export enum BudgetPeriodEnum {
  MONTHLY = 'MONTHLY',
  WEEKLY = 'WEEKLY',
}
registerEnumType(BudgetPeriodEnum, {
  name: 'BudgetPeriod',
  description: 'Calendar months, or ISO weeks from Monday; days are UTC.',
  valuesConfig: { MONTHLY: { description: 'A calendar month (UTC), from the 1st.' }, WEEKLY: { description: 'An ISO week (UTC), from Monday.' } },
});

enum RolloverEnum {
  NONE = 'NONE',
  LEFTOVER = 'LEFTOVER',
  LEFTOVER_AND_OVERSPENDING = 'LEFTOVER_AND_OVERSPENDING',
}
registerEnumType(RolloverEnum, {
  name: 'BudgetRollover',
  description: "What of this period's remainder moves to the next period's budget of the category: nothing, what is left, or also a shortfall.",
  valuesConfig: {
    NONE: { description: 'Every period starts from its own amount.' },
    LEFTOVER: { description: 'What was not spent is added to the next period; a shortfall is not carried.' },
    LEFTOVER_AND_OVERSPENDING: { description: 'What was not spent is added to the next period, and a shortfall is taken from it.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Budget', { description: 'How much one expense category may spend in one month or week.' })
export class Budget {
  @Field(() => ID, { description: 'Id of the budget.' }) id!: string;
  @Field(() => BudgetPeriodEnum, { description: 'Whether the budget covers a month or an ISO week.' }) period!: BudgetPeriod;
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD: the 1st of the month or a Monday.' }) startsOn!: string;
  @Field(() => RolloverEnum, { description: "What moves from this period's remainder into the next period's budget." }) rollover!: Rollover;
  @Field(() => Boolean, { description: 'Whether spent is above amount; each change from false to true emitted one budget.overspent.v1.' })
  overspent!: boolean;
}

@InputType('SetBudgetInput', { description: "A category's budget for one period (setBudget)." })
class SetBudgetInput {
  @Field(() => ID, { description: 'An expense category of yours.' }) categoryId!: string;
  @Field(() => BudgetPeriodEnum, { description: 'Month or week.' }) period!: BudgetPeriod;
  @Field(() => String, {
    nullable: true,
    description: 'Any day of the period as YYYY-MM-DD; it is moved to the period start. The current period when omitted.',
  })
  startsOn?: string | null;
  @Field(() => MoneyInput, { description: 'Greater than zero. Transactions in other currencies count at the rate of their day.' }) amount!: MoneyInput;
  @Field(() => RolloverEnum, { nullable: true, description: 'NONE for a new budget when omitted; an existing budget keeps its own.' })
  rollover?: Rollover | null;
}

@InputType('CopyBudgetsInput', { description: "Which period's budgets to fill from the period before (copyBudgets)." })
class CopyBudgetsInput {
  @Field(() => BudgetPeriodEnum, { description: 'Month or week.' }) period!: BudgetPeriod;
  @Field(() => String, { description: 'Any day of the period to fill, YYYY-MM-DD; its previous period is copied.' }) startsOn!: string;
}

@ObjectType('BudgetReportLine', { description: 'One category in one period: what was budgeted and what happened, in your home currency.' })
class BudgetReportLineType {
  @Field(() => Category, { description: 'The category of this line.' }) category!: CategoryRecord;
  @Field(() => Budget, { description: "The category's budget for the period; null when it has none.", nullable: true }) budget!: BudgetRecord | null;
  @Field(() => Money, { nullable: true, description: "The budget's amount, at the rate of the period's first day." }) budgeted!: Money | null;
  @Field(() => Money, { description: 'Net of the category: negative for spending, positive for income.' }) actual!: Money;
  @Field(() => Money, { description: 'Money spent, net of refunds: minus actual.' }) spent!: Money;
  @Field(() => Money, { nullable: true, description: 'budgeted minus spent; negative when overspent.' }) remaining!: Money | null;
}

@ObjectType('BudgetReport', { description: 'Budget against actual for one period, every amount in your home currency at the rate of its day.' })
class BudgetReportType {
  @Field(() => BudgetPeriodEnum, { description: 'Month or week.' }) period!: BudgetPeriod;
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD.' }) startsOn!: string;
  @Field(() => String, { description: 'Last day of the period.' }) endsOn!: string;
  @Field(() => String, { description: 'Your home currency.' }) currency!: string;
  @Field(() => [BudgetReportLineType], { description: 'Categories with a budget or with transactions in the period.' }) lines!: BudgetReportLineType[];
  @Field(() => Money, { description: "The sum of the period's budgets." }) budgeted!: Money;
  @Field(() => Money, { description: 'Spending in expense categories, net of refunds.' }) spent!: Money;
  @Field(() => Money, { description: 'Money in, in income categories.' }) income!: Money;
  @Field(() => Money, { description: 'Net of transactions without a category (transfers excluded).' }) uncategorized!: Money;
  @Field(() => Money, { description: 'Everything in the period except transfers: income minus spending, plus uncategorised.' }) net!: Money;
}

@Resolver(() => Budget)
export class BudgetResolver {
  @Authorized()
  @Mutation(() => Budget, { description: 'Creates the budget of a category for a period, or replaces its amount.' })
  async setBudget(
    @Arg('input', () => SetBudgetInput, { description: 'The category, period and amount.' }) input: SetBudgetInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<BudgetRecord> {
    const { id: userId } = requireUser(ctx);
    const budget = await setBudget(ctx.em, userId, input);
    ctx.eventsRecorded();
    ctx.loaders.spent.clearAll();
    ctx.loaders.carriedIn.clearAll();
    return budget;
  }

  @Authorized()
  @Mutation(() => [Budget], {
    description: "Copies the previous period's budgets into the period containing startsOn (categories already budgeted there keep theirs); returns that period's budgets.",
  })
  async copyBudgets(@Arg('input', () => CopyBudgetsInput, { description: 'The period to fill.' }) input: CopyBudgetsInput, @Ctx() ctx: BudgetContext): Promise<BudgetRecord[]> {
    const budgets = await copyPreviousBudgets(ctx.em, requireUser(ctx).id, input.period, input.startsOn);
    ctx.eventsRecorded();
    return budgets;
  }

  @FieldResolver(() => String, { description: 'Last day of the period, YYYY-MM-DD.' })
  endsOn(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): string {
    assertOwnerOrAdmin(ctx, budget.userId);
    return periodLastDay(budget.startsOn, budget.period);
  }

  @FieldResolver(() => Money, { description: 'The limit set for the period; overspending is spending above it.' })
  amount(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(budget.amount, budget.currency);
  }

  @FieldResolver(() => Category, { description: 'The expense category the budget limits.' })
  async category(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord> {
    assertOwnerOrAdmin(ctx, budget.userId);
    const category = await ctx.loaders.category.load(budget.categoryId);
    if (!category) throw new Error(`category ${budget.categoryId} of budget ${budget.id} is missing`);
    return category;
  }

  @FieldResolver(() => Money, {
    description: "Money spent in the category in the period, net of refunds, in the budget's currency (other currencies at the rate of their day).",
  })
  async spent(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(await ctx.loaders.spent.load(budget), budget.currency);
  }

  @FieldResolver(() => Money, { description: 'Rolled over from the budget of the period before (negative for a carried shortfall).' })
  async carriedIn(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(await ctx.loaders.carriedIn.load(budget), budget.currency);
  }

  @FieldResolver(() => Money, { description: 'amount plus carriedIn: what the period may spend.' })
  async available(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(budget.amount + (await ctx.loaders.carriedIn.load(budget)), budget.currency);
  }

  @FieldResolver(() => Money, { description: 'available minus spent; negative when the period is short.' })
  async remaining(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    const [carried, spent] = await Promise.all([ctx.loaders.carriedIn.load(budget), ctx.loaders.spent.load(budget)]);
    return Money.of(budget.amount + carried - spent, budget.currency);
  }
}

@Resolver(() => User)
export class UserBudgetsResolver {
  @Authorized()
  @FieldResolver(() => [Budget], { nullable: true, description: 'Your budgets, latest period first.' })
  budgets(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('period', () => BudgetPeriodEnum, { description: 'Only budgets of this period kind.', nullable: true }) period?: BudgetPeriod | null,
  ): Promise<BudgetRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return ctx.em.find(BudgetRecord, { userId: user.id, ...(period ? { period } : {}) }, { orderBy: [{ startsOn: 'desc' }, { id: 'asc' }] });
  }

  @Authorized()
  @Directive('@requires(fields: "homeCurrency")')
  @FieldResolver(() => BudgetReportType, { nullable: true, description: 'Budget against actual for the period containing `on` (today when omitted).' })
  async budgetReport(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('period', () => BudgetPeriodEnum, { description: 'Month or week.' }) period: BudgetPeriod,
    @Arg('on', () => String, { nullable: true, description: 'Any day of the period, YYYY-MM-DD.' }) on?: string | null,
  ): Promise<BudgetReportType> {
    assertOwnerOrAdmin(ctx, user.id);
    const currency = checkHomeCurrency(user.homeCurrency);
    const report = await budgetReport(ctx.em, user.id, currency, period, on ?? isoDate(new Date()));
    const money = (amount: number) => Money.of(amount, currency);
    const line = (l: BudgetReportLine): BudgetReportLineType => ({
      category: l.category,
      budget: l.budget,
      budgeted: l.budgeted === null ? null : money(l.budgeted),
      actual: money(l.actual),
      spent: money(-l.actual),
      remaining: l.budgeted === null ? null : money(l.budgeted + l.actual),
    });
    const sum = (lines: BudgetReportLine[], value: (l: BudgetReportLine) => number) => lines.reduce((s, l) => s + value(l), 0);
    const expense = report.lines.filter((l) => l.category.kind === 'EXPENSE');
    const income = report.lines.filter((l) => l.category.kind === 'INCOME');
    return {
      period: report.period,
      startsOn: report.startsOn,
      endsOn: periodLastDay(report.startsOn, report.period),
      currency,
      lines: report.lines.map(line),
      budgeted: money(sum(report.lines, (l) => l.budgeted ?? 0)),
      spent: money(-sum(expense, (l) => l.actual)),
      income: money(sum(income, (l) => l.actual)),
      uncategorized: money(report.uncategorized),
      net: money(sum(report.lines, (l) => l.actual) + report.uncategorized),
    };
  }
}
