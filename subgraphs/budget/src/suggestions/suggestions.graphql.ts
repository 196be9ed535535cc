import { Arg, Authorized, Ctx, Field, FieldResolver, Float, ID, InputType, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { Category } from '../categories/categories.graphql.js';
import type { CategoryRecord } from '../categories/category.entity.js';
import type { BudgetContext } from '../context.js';
import { Transaction } from '../transactions/transactions.graphql.js';
import type { TransactionRecord } from '../transactions/transaction.entity.js';
import { User } from '../user/user.graphql.js';
import { acceptSuggestedCategory, setSuggestionPreferences, suggestionPreferences, type StoredSuggestion, type SuggestionPreferences } from './suggestions.js';

/** A suggestion as shown, with the transaction's owner for the ownership check. */
type SuggestionView = StoredSuggestion & { userId: string; name: string };

@ObjectType('SuggestedCategory', { description: "The model's guess at an uncategorised transaction's category; acceptSuggestedCategory applies it." })
class SuggestedCategory {
  @Field(() => String, { description: 'The category name the model chose (its own taxonomy, e.g. "Groceries").' }) name!: string;
  @Field(() => Float, { description: 'How sure the model is, from 0 to 1.' }) confidence!: number;
  @Field(() => String, { description: 'The version of the model that made it.' }) modelVersion!: string;
  @Field(() => GraphQLDateTimeISO, { description: 'When the model made the suggestion (UTC, ISO 8601).' }) suggestedAt!: Date;
}

@ObjectType('SuggestionPreferences', { description: 'What happens to category suggestions for your transactions.' })
class SuggestionPreferencesType {
  @Field(() => Boolean, { description: 'Apply a suggestion at once when the model is at least minConfidence sure (off unless you turn it on).' })
  autoApply!: boolean;
  @Field(() => Float, { description: 'From 0.5 to 1; 0.9 unless you set it.' }) minConfidence!: number;
}

@InputType('SuggestionPreferencesInput', { description: 'Your category suggestion settings (setSuggestionPreferences).' })
class SuggestionPreferencesInput {
  @Field(() => Boolean, { description: 'Apply suggestions at least minConfidence sure as they arrive.' }) autoApply!: boolean;
  @Field(() => Float, { nullable: true, description: 'From 0.5 to 1; 0.9 when left out.' }) minConfidence?: number | null;
}

@Resolver(() => SuggestedCategory)
export class SuggestedCategoryResolver {
  @FieldResolver(() => Category, {
    nullable: true,
    description: 'Your category of that name; null when you have none (accepting the suggestion creates it).',
  })
  async category(@Root() suggestion: SuggestionView, @Ctx() ctx: BudgetContext): Promise<CategoryRecord | null> {
    assertOwnerOrAdmin(ctx, suggestion.userId);
    if (!suggestion.categoryId) return null;
    const category = await ctx.loaders.category.load(suggestion.categoryId);
    return category && !category.archivedAt ? category : null;
  }
}

@Resolver(() => Transaction)
export class TransactionSuggestionResolver {
  @FieldResolver(() => SuggestedCategory, {
    nullable: true,
    description: 'A category the model suggests while the transaction has none (not split, not a transfer); null otherwise.',
  })
  async suggestedCategory(@Root() transaction: TransactionRecord, @Ctx() ctx: BudgetContext): Promise<SuggestionView | null> {
    assertOwnerOrAdmin(ctx, transaction.userId);
    if (transaction.categoryId || transaction.transferId) return null;
    const [suggestion, splits] = await Promise.all([ctx.loaders.suggestion.load(transaction.id), ctx.loaders.splits.load(transaction.id)]);
    if (!suggestion || splits.length) return null;
    return { ...suggestion, name: suggestion.label, userId: transaction.userId };
  }

  @Authorized()
  @Mutation(() => Transaction, {
    description: 'Gives one of your transactions its suggested category (recorded as a label for training). Any id that is not yours answers NOT_FOUND.',
  })
  async acceptSuggestedCategory(
    @Arg('transactionId', () => ID, { description: 'One of your transactions with a suggested category.' }) transactionId: string,
    @Ctx() ctx: BudgetContext,
  ): Promise<TransactionRecord> {
    const { id: userId } = requireUser(ctx);
    const transaction = await acceptSuggestedCategory(ctx.em, userId, transactionId);
    ctx.eventsRecorded();
    ctx.loaders.spent.clearAll();
    ctx.loaders.suggestion.clear(transactionId);
    ctx.loaders.category.clearAll();
    return transaction;
  }

  @Authorized()
  @Mutation(() => SuggestionPreferencesType, { description: 'Turns automatic application of confident category suggestions on or off.' })
  async setSuggestionPreferences(
    @Arg('input', () => SuggestionPreferencesInput, { description: 'The new preferences.' }) input: SuggestionPreferencesInput,
    @Ctx() ctx: BudgetContext,
  ): Promise<SuggestionPreferences> {
    return setSuggestionPreferences(ctx.em, requireUser(ctx).id, input);
  }
}

@Resolver(() => User)
export class UserSuggestionPreferencesResolver {
  @Authorized()
  @FieldResolver(() => SuggestionPreferencesType, { nullable: true, description: 'What happens to category suggestions for your transactions.' })
  async suggestionPreferences(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<SuggestionPreferences> {
    assertOwnerOrAdmin(ctx, user.id);
    return suggestionPreferences(ctx.em, user.id);
  }
}
