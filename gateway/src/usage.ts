import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext, GraphQLRequestContext } from '@apollo/server';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isUnionType,
  Kind,
  print,
  stripIgnoredCharacters,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import client from 'prom-client';
import type { AnswerNotes } from './share-queries.js';
import type { Logger } from '@analytica/logger';

/**
 * Latency buckets (upper bounds, ms) of the per-minute histograms. The registry keeps the same list
 * (schema/src/registry/usage.ts) and refuses a batch counted with another, so a drift shows at once.
 */
export const LATENCY_BOUNDS_MS = [
  0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 125, 150, 200, 250, 300, 400, 500, 650, 800, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
];

export interface OperationInfo {
  hash: string;
  name: string | null;
  signature: string;
  coordinates: string[];
}

/** The operation chosen by name (or the only one) with the fragments it uses, transitively. */
function selectOperation(document: DocumentNode, operationName: string | null | undefined): DocumentNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return undefined;
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const used = new Map<string, FragmentDefinitionNode>();
  const queue: ASTNode[] = [operation];
  while (queue.length) {
    visit(queue.pop()!, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          queue.push(fragment);
        }
      },
    });
  }
  return { kind: Kind.DOCUMENT, definitions: [operation, ...[...used.values()].sort((a, b) => a.name.value.localeCompare(b.name.value))] };
}

const nameOf = (node: { kind: string; name?: { value: string } }) => `${node.kind}:${node.name?.value ?? ''}`;

/**
 * The normalised signature: literals hidden (strings, numbers, lists, objects; enum values and
 * booleans kept), aliases dropped, arguments and selections sorted, ignored characters stripped.
 * Two requests that differ only in those details count as one operation.
 */
export function operationSignature(selected: DocumentNode): string {
  const normalised = visit(selected, {
    IntValue: () => ({ kind: Kind.INT, value: '0' }),
    FloatValue: () => ({ kind: Kind.FLOAT, value: '0' }),
    StringValue: () => ({ kind: Kind.STRING, value: '' }),
    ListValue: { leave: () => ({ kind: Kind.LIST, values: [] }) },
    ObjectValue: { leave: () => ({ kind: Kind.OBJECT, fields: [] }) },
    Field: { leave: (node) => ({ ...node, alias: undefined, arguments: [...(node.arguments ?? [])].sort((a, b) => a.name.value.localeCompare(b.name.value)) }) },
    SelectionSet: {
      leave: (node) => ({ ...node, selections: [...node.selections].sort((a, b) => nameOf(a as never).localeCompare(nameOf(b as never))) }),
    },
  });
  return stripIgnoredCharacters(print(normalised));
}

/**
 * Everything a value of this type may carry, for values the document does not spell out: every
 * field of an input type (nested ones too) and every value of an enum. A variable can hold any of
 * them, and a client that receives an enum may switch over all its values; counting them all as
 * used makes the registry's check err on the side of the client.
 */
function reachableCoordinates(type: GraphQLNamedType, found: Set<string>, seen = new Set<string>()) {
  if (seen.has(type.name)) return;
  seen.add(type.name);
  if (isEnumType(type)) for (const value of type.getValues()) found.add(`${type.name}.${value.name}`);
  if (isInputObjectType(type)) {
    for (const field of Object.values(type.getFields())) {
      found.add(`${type.name}.${field.name}`);
      reachableCoordinates(getNamedType(field.type), found, seen);
    }
  }
}

/**
 * The schema coordinates an operation touches: `Type.field`, `Type.field.argument`, `Enum.VALUE`,
 * `Input.field`, variable types; for a variable, every input field and enum value it can carry;
 * for a field returning an enum, every value; for one returning a union, the union (whose members
 * the client may meet).
 */
export function schemaCoordinates(schema: GraphQLSchema, selected: DocumentNode): string[] {
  const found = new Set<string>();
  const typeInfo = new TypeInfo(schema);
  visit(
    selected,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parent = typeInfo.getParentType();
        if (!parent || node.name.value.startsWith('__')) return;
        found.add(`${parent.name}.${node.name.value}`);
        const returned = typeInfo.getType();
        const named = returned ? getNamedType(returned) : undefined;
        if (named && isEnumType(named)) reachableCoordinates(named, found);
        if (named && isUnionType(named)) found.add(named.name);
      },
      Argument(node) {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!typeInfo.getDirective() && parent && field) found.add(`${parent.name}.${field.name}.${node.name.value}`);
      },
      EnumValue(node) {
        const type = typeInfo.getInputType();
        if (type) found.add(`${getNamedType(type).name}.${node.value}`);
      },
      ObjectField(node) {
        const parent = typeInfo.getParentInputType();
        if (parent) found.add(`${getNamedType(parent).name}.${node.name.value}`);
      },
      VariableDefinition(node) {
        let type = node.type;
        while (type.kind !== Kind.NAMED_TYPE) type = type.type;
        found.add(type.name.value);
        const named = schema.getType(type.name.value);
        if (named) reachableCoordinates(named, found);
      },
    }),
  );
  return [...found].sort();
}

export function describeOperation(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): OperationInfo | undefined {
  const selected = selectOperation(document, operationName);
  if (!selected) return undefined;
  const signature = operationSignature(selected);
  const operation = selected.definitions[0] as OperationDefinitionNode;
  return {
    hash: createHash('sha256').update(signature).digest('hex').slice(0, 32),
    name: operation.name?.value ?? null,
    signature,
    coordinates: schemaCoordinates(schema, selected),
  };
}

interface Row {
  minute: number;
  hash: string;
  clientName: string;
  clientVersion: string;
  count: number;
  errors: number;
  latencySumMs: number;
  buckets: number[];
}

export interface UsageReporterOptions {
  /** The registry's usage endpoint (`<registry>/api/usage`). */
  url: string;
  /** A service token with the `report` scope. */
  token?: string;
  flushSeconds: number;
  logger: Logger;
  registry?: client.Registry;
  /** Distinct (minute, operation, client) rows kept between flushes; beyond it requests are counted as dropped. */
  maxRows?: number;
  timeoutMs?: number;
}

/**
 * Usage reporting: per operation (normalised signature and name), client, minute: count, errors
 * and a latency histogram; the schema coordinates each operation touches. Work on the request path
 * is a cache look-up and a few additions: an operation is described once per schema and document.
 * Batches leave on a timer, never awaited by a request; a batch the registry does not take is
 * dropped (and counted), so a registry that is down or slow costs neither latency nor errors.
 */
/** The registry's limit on distinct operations in one batch (schema/src/registry/usage.ts). */
const MAX_OPERATIONS_PER_BATCH = 5000;

interface UsageContext {
  user?: { partner?: { id: string; appId: string } } | null;
  answerNotes?: AnswerNotes;
}

/**
 * Who a request is counted for: a partner app (its partner and app from the verified token, so
 * usage per app cannot be spoofed with headers), otherwise what Apollo's client headers name.
 */
function clientOf(context: UsageContext, header: (name: string) => string | undefined) {
  const partner = context.user?.partner;
  const clientName = partner ? `partner:${partner.id}` : (header('apollographql-client-name') ?? 'unknown');
  const clientVersion = partner ? partner.appId : (header('apollographql-client-version') ?? '');
  return { clientName: clientName.slice(0, 100), clientVersion: clientVersion.slice(0, 50) };
}

export function createUsageReporter(options: UsageReporterOptions) {
  const { logger } = options;
  const maxRows = options.maxRows ?? 20_000;
  // Per schema: a swap starts a fresh cache, and the old one goes with the old schema.
  const described = new WeakMap<GraphQLSchema, Map<string, OperationInfo | null>>();
  let rows = new Map<string, Row>();
  let operations = new Map<string, OperationInfo>();
  const registers = options.registry ? [options.registry] : [];
  const batches = new client.Counter({ name: 'usage_report_batches_total', help: 'Usage batches sent to the registry, by outcome', labelNames: ['outcome'], registers });
  const dropped = new client.Counter({
    name: 'usage_report_requests_dropped_total',
    help: 'Requests not counted: too many rows between flushes, or their batch was lost',
    registers,
  });
  let lastFailure: string | undefined;

  function describe(rc: GraphQLRequestContext<BaseContext>): OperationInfo | null {
    if (!rc.document) return null;
    let cache = described.get(rc.schema);
    if (!cache) described.set(rc.schema, (cache = new Map()));
    const key = `${rc.queryHash ?? ''}:${rc.operationName ?? ''}`;
    let info = cache.get(key);
    if (info === undefined) {
      info = describeOperation(rc.schema, rc.document, rc.operationName) ?? null;
      if (cache.size >= 10_000) cache.clear();
      cache.set(key, info);
    }
    return info;
  }

  function record(info: OperationInfo, clientName: string, clientVersion: string, failed: boolean, ms: number) {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const key = `${minute}|${info.hash}|${clientName}|${clientVersion}`;
    let row = rows.get(key);
    if (!row) {
      // The registry takes at most 5,000 operations and 20,000 rows in one batch: a bigger one
      // would be refused whole, so what does not fit is counted as dropped instead.
      if (rows.size >= maxRows || (!operations.has(info.hash) && operations.size >= MAX_OPERATIONS_PER_BATCH)) {
        dropped.inc();
        return;
      }
      row = { minute, hash: info.hash, clientName, clientVersion, count: 0, errors: 0, latencySumMs: 0, buckets: new Array(LATENCY_BOUNDS_MS.length + 1).fill(0) };
      rows.set(key, row);
      operations.set(info.hash, info);
    }
    row.count++;
    if (failed) row.errors++;
    row.latencySumMs += ms;
    let i = 0;
    while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]!) i++;
    row.buckets[i]!++;
  }

  async function flush() {
    if (rows.size === 0) return;
    const batch = { latencyBoundsMs: LATENCY_BOUNDS_MS, operations: [...operations.values()], usage: [...rows.values()] };
    rows = new Map();
    operations = new Map();
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: JSON.stringify(batch),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      if (!response.ok) throw new Error(`registry answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
      batches.inc({ outcome: 'sent' });
      if (lastFailure) logger.info('usage reporting works again');
      lastFailure = undefined;
    } catch (error) {
      batches.inc({ outcome: 'lost' });
      dropped.inc(batch.usage.reduce((n, r) => n + r.count, 0));
      const message = (error as Error).message;
      if (message !== lastFailure) logger.warn({ err: error, url: options.url }, 'usage batch lost; requests are unaffected');
      lastFailure = message;
    }
  }

  let flushing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    flushing = flushing.then(flush);
  }, options.flushSeconds * 1000);
  timer.unref();

  const plugin: ApolloServerPlugin<BaseContext> = {
    async requestDidStart({ request, contextValue }) {
      const started = performance.now();
      const { clientName, clientVersion } = clientOf(contextValue as UsageContext, (name) => request.http?.headers.get(name) ?? undefined);
      return {
        async willSendResponse(rc) {
          try {
            const info = describe(rc);
            if (!info) return;
            const body = rc.response.body;
            const failed = !!rc.errors?.length || (body.kind === 'single' && !!body.singleResult.errors?.length);
            record(info, clientName, clientVersion, failed, performance.now() - started);
            // Requests that share this answer (share-queries.ts) are counted from the same record.
            const notes = (contextValue as UsageContext).answerNotes;
            if (notes) notes.usage = { info, failed };
          } catch (error) {
            // Counting must never fail a request.
            dropped.inc();
            logger.debug({ err: error }, 'usage not recorded');
          }
        },
      };
    },
  };

  return {
    plugin,
    /** Counts a request that got the answer of an identical one in flight (share-queries.ts). */
    recordShared(context: UsageContext, header: (name: string) => string | undefined, notes: AnswerNotes, ms: number) {
      const usage = notes.usage as { info: OperationInfo; failed: boolean } | undefined;
      if (!usage) return;
      const { clientName, clientVersion } = clientOf(context, header);
      record(usage.info, clientName, clientVersion, usage.failed, ms);
    },
    /** Sends what is counted now (tests, shutdown). */
    flush: () => (flushing = flushing.then(flush)),
    async stop() {
      clearInterval(timer);
      await (flushing = flushing.then(flush));
    },
  };
}
export type UsageReporter = ReturnType<typeof createUsageReporter>;
