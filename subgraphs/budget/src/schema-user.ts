import { Directive, Field, ID, ObjectType } from 'type-graphql';
import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { Loaders } from './loaders.js';

export interface BudgetContext extends SubgraphContext {
  em: EntityManager;
  loaders: Loaders;
  /** Wakes the outbox relay after a commit that wrote events, instead of waiting for its next poll. */
  eventsRecorded(): void;
}

/**
 * Owned by the user subgraph; this one hangs the user's accounts, categories, budgets and
 * transactions on it. homeCurrency is the user subgraph's: reports declare @requires on it, so
 * the gateway fetches it from there and hands it over in the representation.
 */
@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID) id!: string;
  @Directive('@external')
  @Field(() => String, { description: "ISO 4217 code the user's reports are converted into." })
  homeCurrency?: string;
}
