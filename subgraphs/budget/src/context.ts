import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { Loaders } from './loaders.js';
import type { StatementUploads } from './uploads/uploads.js';

/**
 * What every budget resolver receives, made per request by startBudgetService (index.ts). It has a
 * module of its own, depending on nothing but the loaders' type, so that every *.graphql.ts and the
 * service can name it without importing some other aggregate's GraphQL types, and no import circle
 * can run through it.
 */
export interface BudgetContext extends SubgraphContext {
  em: EntityManager;
  loaders: Loaders;
  /** Wakes the outbox relay after a commit that wrote events, instead of waiting for its next poll. */
  eventsRecorded(): void;
  /** Statement uploads; null when no object store is configured (S3_BUCKET or OBJECTS_DIR). */
  uploads: StatementUploads | null;
}
