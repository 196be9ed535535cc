import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * The budget service's Category, by key only: insight keeps category ids (and, for its texts, the
 * names the events carried), and the gateway asks budget for the rest, so a report line or an
 * insight shows the category's name as it is now, after a rename, and budget checks that the
 * category is the caller's.
 */
@Directive('@key(fields: "id", resolvable: false)')
@ObjectType('Category')
export class Category {
  @Field(() => ID) id!: string;
}

/** The reference the gateway resolves in budget; null when there is no category (uncategorised money). */
export const categoryRef = (categoryId: string | null): Category | null => (categoryId ? { id: categoryId } : null);
