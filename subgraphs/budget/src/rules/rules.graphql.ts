import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Int, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Money, MoneyInput } from '@analytica/subgraph';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import { User } from '../user/user.graphql.js';
import { RuleRecord, type RuleField, type RuleOperator } from './rule.entity.js';
import { createRule, deleteRule, reorderRules, updateRule } from './rules.js';

enum RuleFieldEnum {
  PAYEE = 'PAYEE',
  NOTES = 'NOTES',
  PAYEE_OR_NOTES = 'PAYEE_OR_NOTES',
}
registerEnumType(RuleFieldEnum, { name: 'RuleField', description: 'Which text of a transaction a rule looks at.' });

enum RuleOperatorEnum {
  CONTAINS = 'CONTAINS',
  REGEX = 'REGEX',
}
registerEnumType(RuleOperatorEnum, {
  name: 'RuleOperator',
  description: 'CONTAINS ignores case; REGEX is a POSIX regular expression (PostgreSQL flavour), also ignoring case, without back references, lookahead or lookbehind.',
});

@Directive('@key(fields: "id")')
@ObjectType('Rule', { description: 'Categorises new and imported transactions that have no category: the first matching rule, in your order, wins.' })
export class Rule {
  @Field(() => ID) id!: string;
  @Field(() => Int, { description: '1 runs first.' }) position!: number;
  @Field(() => RuleFieldEnum) field!: RuleField;
  @Field(() => RuleOperatorEnum) operator!: RuleOperator;
  @Field(() => String) pattern!: string;
}

@InputType('RuleInput')
class RuleInput {
  @Field(() => RuleFieldEnum) field!: RuleField;
  @Field(() => RuleOperatorEnum) operator!: RuleOperator;
  @Field(() => String, { description: '1 to 200 characters.' }) pattern!: string;
  @Field(() => MoneyInput, { nullable: true, description: 'Signed (negative is money out), inclusive; only transactions in its currency match.' })
  minAmount?: MoneyInput | null;
  @Field(() => MoneyInput, { nullable: true, description: 'Signed, inclusive, in the same currency as minAmount.' }) maxAmount?: MoneyInput | null;
  @Field(() => ID, { description: 'The category to give.' }) categoryId!: string;
}

@Resolver(() => Rule)
export class RuleResolver {
  @Authorized()
  @Mutation(() => Rule, { description: 'Adds a rule after your others (at most 200 rules).' })
  createRule(@Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: BudgetContext): Promise<RuleRecord> {
    return createRule(ctx.em, requireUser(ctx).id, input);
  }

  @Authorized()
  @Mutation(() => Rule)
  updateRule(@Arg('id', () => ID) id: string, @Arg('input', () => RuleInput) input: RuleInput, @Ctx() ctx: BudgetContext): Promise<RuleRecord> {
    return updateRule(ctx.em, requireUser(ctx).id, id, input);
  }

  @Authorized()
  @Mutation(() => Boolean)
  async deleteRule(@Arg('id', () => ID) id: string, @Ctx() ctx: BudgetContext): Promise<boolean> {
    await deleteRule(ctx.em, requireUser(ctx).id, id);
    return true;
  }

  @Authorized()
  @Mutation(() => [Rule], { description: 'Sets the order rules run in; list every one of your rules once.' })
  reorderRules(@Arg('ids', () => [ID]) ids: string[], @Ctx() ctx: BudgetContext): Promise<RuleRecord[]> {
    return reorderRules(ctx.em, requireUser(ctx).id, ids);
  }

  @FieldResolver(() => Money, { nullable: true })
  minAmount(@Root() rule: RuleRecord, @Ctx() ctx: BudgetContext): Money | null {
    assertOwnerOrAdmin(ctx, rule.userId);
    return rule.minAmount === null || !rule.currency ? null : Money.of(rule.minAmount, rule.currency);
  }

  @FieldResolver(() => Money, { nullable: true })
  maxAmount(@Root() rule: RuleRecord, @Ctx() ctx: BudgetContext): Money | null {
    assertOwnerOrAdmin(ctx, rule.userId);
    return rule.maxAmount === null || !rule.currency ? null : Money.of(rule.maxAmount, rule.currency);
  }

  @FieldResolver(() => Category)
  async category(@Root() rule: RuleRecord, @Ctx() ctx: BudgetContext): Promise<CategoryRecord> {
    assertOwnerOrAdmin(ctx, rule.userId);
    const category = await ctx.loaders.category.load(rule.categoryId);
    if (!category) throw new Error(`category ${rule.categoryId} of rule ${rule.id} is missing`);
    return category;
  }
}

@Resolver(() => User)
export class UserRulesResolver {
  @Authorized()
  @FieldResolver(() => [Rule], { nullable: true, description: 'Your categorisation rules, in the order they run.' })
  rules(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<RuleRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return ctx.em.find(RuleRecord, { userId: user.id }, { orderBy: [{ position: 'asc' }, { createdAt: 'asc' }, { id: 'asc' }] });
  }
}
