import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput } from '@analytica/subgraph';
import { BudgetRecord, periodLastDay, setBudget, type BudgetPeriod } from './budgets.js';
import type { CategoryRecord } from './categories.js';
import { Category } from './schema-categories.js';
import { User, type BudgetContext } from './schema-user.js';

enum BudgetPeriodEnum {
  MONTHLY = 'MONTHLY',
  WEEKLY = 'WEEKLY',
}
registerEnumType(BudgetPeriodEnum, {
  name: 'BudgetPeriod',
  description: 'Calendar months, or ISO weeks from Monday; days are UTC.',
});

@Directive('@key(fields: "id")')
@ObjectType('Budget', { description: 'How much one expense category may spend in one month or week.' })
export class Budget {
  @Field(() => ID) id!: string;
  @Field(() => BudgetPeriodEnum) period!: BudgetPeriod;
  @Field(() => String, { description: 'First day of the period, YYYY-MM-DD: the 1st of the month or a Monday.' }) startsOn!: string;
}

@InputType('SetBudgetInput')
class SetBudgetInput {
  @Field(() => ID, { description: 'An expense category of yours.' }) categoryId!: string;
  @Field(() => BudgetPeriodEnum) period!: BudgetPeriod;
  @Field(() => String, {
    nullable: true,
    description: 'Any day of the period as YYYY-MM-DD; it is moved to the period start. The current period when omitted.',
  })
  startsOn?: string | null;
  @Field(() => MoneyInput, { description: 'Greater than zero. Only transactions in this currency count as spent.' }) amount!: MoneyInput;
}

@Resolver(() => Budget)
export class BudgetResolver {
  @Authorized()
  @Mutation(() => Budget, { description: 'Creates the budget of a category for a period, or replaces its amount.' })
  async setBudget(@Arg('input', () => SetBudgetInput) input: SetBudgetInput, @Ctx() ctx: BudgetContext): Promise<BudgetRecord> {
    const { id: userId } = requireUser(ctx);
    const budget = await setBudget(ctx.em, userId, input);
    ctx.loaders.spent.clear(budget.id);
    return budget;
  }

  @FieldResolver(() => String, { description: 'Last day of the period, YYYY-MM-DD.' })
  endsOn(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): string {
    assertOwnerOrAdmin(ctx, budget.userId);
    return periodLastDay(budget.startsOn, budget.period);
  }

  @FieldResolver(() => Money)
  amount(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Money {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(budget.amount, budget.currency);
  }

  @FieldResolver(() => Category)
  async category(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord> {
    assertOwnerOrAdmin(ctx, budget.userId);
    const category = await ctx.loaders.category.load(budget.categoryId);
    if (!category) throw new Error(`category ${budget.categoryId} of budget ${budget.id} is missing`);
    return category;
  }

  @FieldResolver(() => Money, { description: "Money that left the category's accounts in the period, in the budget's currency." })
  async spent(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(await ctx.loaders.spent.load(budget.id), budget.currency);
  }

  @FieldResolver(() => Money, { description: 'amount minus spent; negative when the budget is overspent.' })
  async remaining(@Root() budget: BudgetRecord, @Ctx() ctx: BudgetContext): Promise<Money> {
    assertOwnerOrAdmin(ctx, budget.userId);
    return Money.of(budget.amount - (await ctx.loaders.spent.load(budget.id)), budget.currency);
  }
}

@Resolver(() => User)
export class UserBudgetsResolver {
  @Authorized()
  @FieldResolver(() => [Budget], { nullable: true, description: 'Your budgets, latest period first.' })
  budgets(
    @Root() user: User,
    @Ctx() ctx: BudgetContext,
    @Arg('period', () => BudgetPeriodEnum, { nullable: true }) period?: BudgetPeriod | null,
  ): Promise<BudgetRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return ctx.em.find(BudgetRecord, { userId: user.id, ...(period ? { period } : {}) }, { orderBy: [{ startsOn: 'desc' }, { id: 'asc' }] });
  }
}
