import { buildOperationContext, executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import type { QueryPlan } from '@apollo/query-planner';
import type { ExecutionResult } from 'graphql';
import type { EntityBatcher } from './entity-batcher.js';
import type { PreparedSubscription, SupergraphView } from './planner.js';

export interface EventContext {
  /** The Authorization header sent to other subgraphs for this execution. */
  authorization?: string;
  requestId: string;
  /** Who may share a subgraph request with this execution: "public", or the caller's own token. */
  batchScope: string;
}

type OperationContext = ReturnType<typeof buildOperationContext>;

/**
 * Runs one event through a planned subscription: the owner's part is answered from the event's
 * payload, the fields other subgraphs own come from their `_entities` (the planner's `rest`), and
 * the gateway's own executor merges and shapes the result to the client's selection.
 */
export function createEventExecutor(view: SupergraphView, batchers: ReadonlyMap<string, EntityBatcher>) {
  const operationContexts = new WeakMap<PreparedSubscription, OperationContext>();
  const plans = new WeakMap<PreparedSubscription, QueryPlan>();
  const apiSchema = view.supergraph.apiSchema();

  function contextFor(prepared: PreparedSubscription) {
    let operationContext = operationContexts.get(prepared);
    if (!operationContext) {
      operationContext = buildOperationContext({ schema: view.apiSchema, operationDocument: prepared.document, operationName: prepared.operationName });
      operationContexts.set(prepared, operationContext);
    }
    let plan = plans.get(prepared);
    if (!plan) {
      plan = { kind: 'QueryPlan', node: prepared.rest ? { kind: 'Sequence', nodes: [prepared.primary, prepared.rest] } : prepared.primary } as QueryPlan;
      plans.set(prepared, plan);
    }
    return { operationContext, plan };
  }

  /**
   * When a publisher left out a field the client asked for (or sent only the key, as for a
   * subscription's first, current value), the owner is asked for the entity.
   */
  async function completeFromOwner(prepared: PreparedSubscription, payload: Record<string, unknown>, variables: Record<string, unknown>, context: EventContext) {
    const source = batchers.get(prepared.owner);
    if (!source) throw new Error(`no data source for ${prepared.owner}`);
    if (!prepared.keyField) {
      const missing = prepared.primaryFields.filter((field) => !(field in payload));
      throw new Error(`an event of ${prepared.entityType} lacks ${missing.join(', ')} and has no key to fetch them by`);
    }
    const response = await source.process(
      {
        kind: 'incoming operation' as never,
        request: {
          query: prepared.ownerEntitiesQuery,
          variables: { ...variables, representations: [{ __typename: prepared.entityType, [prepared.keyField]: payload[prepared.keyField] }] },
        },
        context,
        incomingRequestContext: { context, request: {}, metrics: {} } as never,
      } as never,
      context.batchScope,
    );
    const entity = (response.data?._entities as Record<string, unknown>[] | undefined)?.[0];
    if (!entity) throw new Error(response.errors?.[0]?.message ?? `${prepared.owner} did not return ${prepared.entityType}`);
    return { ...entity, __typename: prepared.entityType };
  }

  return {
    async execute(prepared: PreparedSubscription, payload: Record<string, unknown>, variables: Record<string, unknown>, context: EventContext): Promise<ExecutionResult> {
      const complete = prepared.primaryFields.every((field) => field in payload);
      const entity = complete ? payload : await completeFromOwner(prepared, payload, variables, context);
      const { operationContext, plan } = contextFor(prepared);
      // Fetches to other subgraphs go through their batchers: events of many executions share requests.
      const serviceMap: Record<string, GraphQLDataSource> = {};
      for (const [name, batcher] of batchers) serviceMap[name] = { process: (request) => batcher.process(request, context.batchScope) };
      // The gateway merges into what the data source returns: every execution gets its own copy.
      serviceMap[prepared.owner] = { process: async () => ({ data: { [prepared.responseName]: structuredClone(entity) } }) };
      const result = await executeQueryPlan(
        plan,
        serviceMap,
        { request: { variables }, context, metrics: {}, cache: undefined, logger: undefined } as never,
        operationContext,
        view.supergraphSchema,
        apiSchema,
      );
      return { data: result.data ?? null, ...(result.errors?.length ? { errors: result.errors } : {}) } as ExecutionResult;
    },
  };
}
export type EventExecutor = ReturnType<typeof createEventExecutor>;
