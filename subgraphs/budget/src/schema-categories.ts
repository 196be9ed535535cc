import { Authorized, Ctx, Directive, Field, FieldResolver, ID, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin } from '@analytica/auth';
import { CategoryRecord, ensureDefaultCategories, type CategoryKind } from './categories.js';
import { User, type BudgetContext } from './schema-user.js';

enum CategoryKindEnum {
  INCOME = 'INCOME',
  EXPENSE = 'EXPENSE',
}
registerEnumType(CategoryKindEnum, { name: 'CategoryKind', description: 'Whether a category collects money coming in or going out.' });

@Directive('@key(fields: "id")')
@ObjectType('Category', { description: 'What a transaction was for, e.g. Groceries in the Everyday group.' })
export class Category {
  @Field(() => ID) id!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'Groups categories for reports, e.g. "Housing".' }) group!: string;
  @Field(() => CategoryKindEnum) kind!: CategoryKind;
  @Field(() => GraphQLDateTimeISO, { nullable: true }) archivedAt!: Date | null;
}

@Resolver(() => User)
export class UserCategoriesResolver {
  @Authorized()
  @FieldResolver(() => [Category], { nullable: true, description: 'Your categories, by group and name; a default set is created on first use.' })
  async categories(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<CategoryRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    await ensureDefaultCategories(ctx.em, user.id);
    const categories = await ctx.em.find(CategoryRecord, { userId: user.id }, { orderBy: [{ group: 'asc' }, { name: 'asc' }] });
    for (const category of categories) ctx.loaders.category.prime(category.id, category);
    return categories;
  }
}
