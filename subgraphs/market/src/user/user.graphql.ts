import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** Owned by the user subgraph; this one hangs the user's watchlist and price alerts on it. */
@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID, { description: 'Id of the user: stable, and the same in every service.' }) id!: string;
}
