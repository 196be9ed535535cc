import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * Owned by the user subgraph; this one hangs the user's accounts, categories, budgets and
 * transactions on it. homeCurrency is the user subgraph's: reports declare @requires on it, so
 * the gateway fetches it from there and hands it over in the representation.
 */
@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' }) id!: string;
  @Directive('@external')
  @Field(() => String, { description: "ISO 4217 code the user's reports are converted into." })
  homeCurrency?: string;
}
