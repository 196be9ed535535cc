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
registerEnumType(RuleFieldEnum, {
  name: 'RuleField',
  description: 'Which text of a transaction a rule looks at.',
  valuesConfig: { PAYEE: { description: 'The payee.' }, NOTES: { description: 'The notes.' }, PAYEE_OR_NOTES: { description: 'Either the payee or the notes.' } },
});

enum RuleOperatorEnum {
  CONTAINS = 'CONTAINS',
  REGEX = 'REGEX',
}
registerEnumType(RuleOperatorEnum, {
  name: 'RuleOperator',
  description: 'CONTAINS ignores case; REGEX is a POSIX regular expression (PostgreSQL flavour), also ignoring case, without back references, lookahead or lookbehind.',
  valuesConfig: {
    CONTAINS: { description: 'The text contains pattern, ignoring case.' },
    REGEX: { description: 'The text matches pattern as a POSIX regular expression, ignoring case.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Rule', { description: 'Categorises new and imported transactions that have no category: the first matching rule, in your order, wins.' })
export class Rule {
  @Field(() => ID, { description: 'Id of the rule.' }) id!: string;
  @Field(() => Int, { description: '1 runs first.' }) position!: number;
  @Field(() => RuleFieldEnum, { description: 'Which text of a transaction it looks at.' }) field!: RuleField;
  @Field(() => RuleOperatorEnum, { description: 'How pattern is matched.' }) operator!: RuleOperator;
  @Field(() => String, { description: 'The text or regular expression to match.' }) pattern!: string;
}

@InputType('RuleInput', { description: "A categorisation rule's condition and category (createRule, updateRule)." })
class RuleInput {
  @Field(() => RuleFieldEnum, { description: 'Which text of a transaction to look at.' }) field!: RuleField;
  @Field(() => RuleOperatorEnum, { description: 'How to match pattern.' }) operator!: RuleOperator;
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
  createRule(@Arg('input', () => RuleInput, { description: 'The rule to add.' }) input: RuleInput, @Ctx() ctx: BudgetContext): Promise<RuleRecord> {
    return createRule(ctx.em, requireUser(ctx).id, input);
  }

  @Authorized()
  @Mutation(() => Rule, { description: 'Replaces the condition and category of one of your rules; it keeps its place in the order.' })
  updateRule(
    @Arg('id', () => ID, { description: 'One of your rules.' }) id: string,
    @Arg('input', () => RuleInput, { description: "The rule's new condition and category." }) input: RuleInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<RuleRecord> {
    return updateRule(ctx.em, requireUser(ctx).id, id, input);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: 'Deletes one of your rules; the others keep their order. True when it was deleted.' })
  async deleteRule(@Arg('id', () => ID, { description: 'One of your rules.' }) id: string, @Ctx() ctx: BudgetContext): Promise<boolean> {
    await deleteRule(ctx.em, requireUser(ctx).id, id);
    return true;
  }

  @Authorized()
  @Mutation(() => [Rule], { description: 'Sets the order rules run in; list every one of your rules once.' })
  reorderRules(
    @Arg('ids', () => [ID], { description: 'Every one of your rule ids once, the first to run first.' }) ids: string[],
    @Ctx() ctx: BudgetContext,
  ): Promise<RuleRecord[]> {
    return reorderRules(ctx.em, requireUser(ctx).id, ids);
  }

  @FieldResolver(() => Money, { description: 'Matches only amounts at or above this (signed, negative is money out); only transactions in its currency match.', nullable: true })
  minAmount(@Root() rule: RuleRecord, @Ctx() ctx: BudgetContext): Money | null {
    assertOwnerOrAdmin(ctx, rule.userId);
    return rule.minAmount === null || !rule.currency ? null : Money.of(rule.minAmount, rule.currency);
  }

  @FieldResolver(() => Money, { description: 'Matches only amounts at or below this (signed), in the same currency as minAmount.', nullable: true })
  maxAmount(@Root() rule: RuleRecord, @Ctx() ctx: BudgetContext): Money | null {
    assertOwnerOrAdmin(ctx, rule.userId);
    return rule.maxAmount === null || !rule.currency ? null : Money.of(rule.maxAmount, rule.currency);
  }

  @FieldResolver(() => Category, { description: 'The category it gives.' })
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
