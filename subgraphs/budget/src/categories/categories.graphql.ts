import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, InputType, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import type { BudgetContext } from '../context.js';
import { User } from '../user/user.graphql.js';
import { createCategory, listCategories, removeCategory, restoreCategory, updateCategory, type CategoryRemoval } from './categories.js';
import type { CategoryKind, CategoryRecord } from './category.entity.js';

enum CategoryKindEnum {
  INCOME = 'INCOME',
  EXPENSE = 'EXPENSE',
}
registerEnumType(CategoryKindEnum, {
  name: 'CategoryKind',
  description: 'Whether a category collects money coming in or going out.',
  valuesConfig: { INCOME: { description: 'Money coming in, e.g. salary.' }, EXPENSE: { description: 'Money going out, e.g. groceries; only expense categories have budgets.' } },
});

enum CategoryRemovalEnum {
  DELETED = 'DELETED',
  ARCHIVED = 'ARCHIVED',
}
registerEnumType(CategoryRemovalEnum, {
  name: 'CategoryRemovalOutcome',
  description: 'DELETED when nothing used the category; ARCHIVED when something did, so that history keeps it.',
  valuesConfig: {
    DELETED: { description: 'Nothing used the category: it is gone.' },
    ARCHIVED: { description: 'Transactions, budgets or rules use it: it is kept for history and refused for new use (restoreCategory brings it back).' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('Category', { description: 'What a transaction was for, e.g. Groceries in the Everyday group.' })
export class Category {
  // A transaction's category as a partner app reading it for a consenting user sees it (the
  // budget-with-consent contract).
  @Directive('@tag(name: "consent")')
  @Field(() => ID, { description: 'Id of the category.' })
  id!: string;
  @Directive('@tag(name: "consent")')
  @Field(() => String, { description: 'The category\'s name, unique among your categories, e.g. "Groceries".' })
  name!: string;
  @Directive('@tag(name: "consent")')
  @Field(() => String, { description: 'Groups categories for reports, e.g. "Housing".' })
  group!: string;
  @Field(() => CategoryKindEnum, { description: 'Whether it collects income or expenses.' }) kind!: CategoryKind;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Set when archived: kept for history, refused for new use.' }) archivedAt!: Date | null;
}

@ObjectType('CategoryRemoval', { description: 'What deleteCategory did: deleted the category, or archived it because something uses it.' })
class CategoryRemovalResult {
  @Field(() => CategoryRemovalEnum, { description: 'Whether the category was deleted or archived.' }) outcome!: CategoryRemoval;
  @Field(() => Category, { description: 'The category as it was deleted, or archived.' }) category!: CategoryRecord;
}

@InputType('CreateCategoryInput', { description: 'A new category of yours (createCategory).' })
class CreateCategoryInput {
  @Field(() => String, { description: '1 to 100 characters, unique among your categories.' }) name!: string;
  @Field(() => String, { description: 'A group name such as "Housing"; a new name makes a new group.' }) group!: string;
  @Field(() => CategoryKindEnum, { description: 'Whether it collects income or expenses.' }) kind!: CategoryKind;
}

@InputType('UpdateCategoryInput', { description: 'What to change in a category (updateCategory); fields left out keep their value.' })
class UpdateCategoryInput {
  @Field(() => String, { description: 'A new name, 1 to 100 characters, unique among your categories.', nullable: true }) name?: string | null;
  @Field(() => String, { description: 'Another group, e.g. "Housing"; a new name makes a new group.', nullable: true }) group?: string | null;
}

@Resolver(() => Category)
export class CategoryResolver {
  @Authorized()
  @Mutation(() => Category, { description: 'Adds a category of your own.' })
  createCategory(@Arg('input', () => CreateCategoryInput, { description: 'The new category.' }) input: CreateCategoryInput, @Ctx() ctx: BudgetContext): Promise<CategoryRecord> {
    return createCategory(ctx.em, requireUser(ctx).id, input);
  }

  @Authorized()
  @Mutation(() => Category, { description: 'Renames a category or moves it to another group.' })
  updateCategory(
    @Arg('id', () => ID, { description: 'One of your categories.' }) id: string,
    @Arg('input', () => UpdateCategoryInput, { description: 'What to change; fields left out keep their value.' }) input: UpdateCategoryInput,
    @Ctx() ctx: BudgetContext,
  ) {
    return updateCategory(ctx.em, requireUser(ctx).id, id, input);
  }

  @Authorized()
  @Mutation(() => CategoryRemovalResult, { description: 'Deletes a category nothing uses; archives one that is used.' })
  deleteCategory(@Arg('id', () => ID, { description: 'One of your categories.' }) id: string, @Ctx() ctx: BudgetContext) {
    return removeCategory(ctx.em, requireUser(ctx).id, id);
  }

  @Authorized()
  @Mutation(() => Category, { description: 'Brings an archived category back into use.' })
  restoreCategory(@Arg('id', () => ID, { description: 'One of your archived categories.' }) id: string, @Ctx() ctx: BudgetContext): Promise<CategoryRecord> {
    return restoreCategory(ctx.em, requireUser(ctx).id, id);
  }
}

@Resolver(() => User)
export class UserCategoriesResolver {
  @Authorized()
  @FieldResolver(() => [Category], {
    nullable: true,
    description: 'Your categories (archived ones included), by group and name; a default set is created on first use.',
  })
  async categories(@Root() user: User, @Ctx() ctx: BudgetContext): Promise<CategoryRecord[]> {
    assertOwnerOrAdmin(ctx, user.id);
    const categories = await listCategories(ctx.em, user.id);
    for (const category of categories) ctx.loaders.category.prime(category.id, category);
    return categories;
  }
}
