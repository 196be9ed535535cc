import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GraphQLFormattedError } from 'graphql';

type Response = Awaited<ReturnType<GraphQLDataSource['process']>>;

interface Waiting {
  options: GraphQLDataSourceProcessOptions;
  representations: unknown[];
  resolve: (response: Response) => void;
  reject: (error: unknown) => void;
}

interface Queue {
  inFlight: boolean;
  scheduled: boolean;
  waiting: Waiting[];
}

export interface EntityBatcherOptions {
  /** Most representations sent in one request. */
  maxRepresentations?: number;
  /** Called with the number of representations of each request sent. */
  onBatch?: (representations: number) => void;
  /**
   * Called with each request's duration in seconds, answered or failed. Every event waiting for
   * this subgraph waits for the request in flight, so its slowest answers are the engine's tail.
   */
  onAnswer?: (seconds: number) => void;
}

/**
 * Sends the `_entities` fetches of many subscription events to one subgraph as one request.
 *
 * Every event of a shared execution asks the subgraphs that add fields to the entity (news's
 * `latestHeadline` on a Quote) for that one entity: at 200 ticks a second, 200 requests a second,
 * each costing the gateway and the subgraph a full HTTP and GraphQL round (issue 10 measured 2-3 ms
 * of CPU on each side). Fetches with the same query, the same other variables and the same scope
 * are queued: the first goes out at the end of the current loop turn, and whatever arrives while a
 * request is in flight goes in the next one. At low load nothing waits; under load the batches grow
 * with the subgraph's latency, so one slow subgraph gets fewer, larger requests instead of a queue.
 *
 * The scope decides who may share a request, because the first waiter's token goes with it:
 * "public" for shared executions (public fields are the same for every signed-in user), otherwise
 * the caller's own Authorization header.
 */
export function createEntityBatcher(source: GraphQLDataSource, options: EntityBatcherOptions = {}) {
  const maxRepresentations = options.maxRepresentations ?? 100;
  const queues = new Map<string, Queue>();

  function schedule(key: string, queue: Queue) {
    if (queue.scheduled || queue.inFlight) return;
    queue.scheduled = true;
    setImmediate(() => {
      queue.scheduled = false;
      send(key, queue);
    });
  }

  function send(key: string, queue: Queue) {
    if (queue.waiting.length === 0) {
      queues.delete(key);
      return;
    }
    const batch: Waiting[] = [];
    let count = 0;
    while (queue.waiting.length > 0 && (batch.length === 0 || count + queue.waiting[0]!.representations.length <= maxRepresentations)) {
      const next = queue.waiting.shift()!;
      batch.push(next);
      count += next.representations.length;
    }
    queue.inFlight = true;
    options.onBatch?.(count);
    const first = batch[0]!.options;
    const request = { ...first.request, variables: { ...first.request.variables, representations: batch.flatMap((w) => w.representations) } };
    const sentAt = performance.now();
    source
      .process({ ...first, request } as GraphQLDataSourceProcessOptions)
      .then(
        (response) => split(response, batch),
        (error: unknown) => batch.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        options.onAnswer?.((performance.now() - sentAt) / 1000);
        queue.inFlight = false;
        if (queue.waiting.length > 0) schedule(key, queue);
        else queues.delete(key);
      });
  }

  return {
    process(request: GraphQLDataSourceProcessOptions, scope: string): Promise<Response> {
      const representations = request.request.variables?.representations;
      const query = request.request.query;
      if (!Array.isArray(representations) || !query?.includes('_entities')) return source.process(request);
      const { representations: _ignored, ...others } = request.request.variables!;
      const key = `${scope}\u0000${query}\u0000${JSON.stringify(others)}`;
      let queue = queues.get(key);
      if (!queue) {
        queue = { inFlight: false, scheduled: false, waiting: [] };
        queues.set(key, queue);
      }
      const promise = new Promise<Response>((resolve, reject) => queue!.waiting.push({ options: request, representations, resolve, reject }));
      schedule(key, queue);
      return promise;
    },
  };
}

/**
 * Gives each waiter its slice of `_entities` and the errors about its entities, their paths
 * renumbered as if it had asked alone; an error about no entity in particular goes to every waiter.
 */
function split(response: Response, batch: Waiting[]) {
  const entities = response.data?._entities;
  let offset = 0;
  for (const waiting of batch) {
    const count = waiting.representations.length;
    const from = offset;
    const errors = response.errors?.flatMap((error: GraphQLFormattedError) => {
      const [root, index, ...rest] = error.path ?? [];
      if (root !== '_entities' || typeof index !== 'number') return [error];
      if (index < from || index >= from + count) return [];
      return [{ ...error, path: ['_entities', index - from, ...rest] }];
    });
    waiting.resolve({
      ...response,
      data: response.data ? { ...response.data, _entities: Array.isArray(entities) ? entities.slice(from, from + count) : entities } : response.data,
      errors: errors?.length ? errors : undefined,
    });
    offset += count;
  }
}
export type EntityBatcher = ReturnType<typeof createEntityBatcher>;
