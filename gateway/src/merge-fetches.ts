import {
  Kind,
  OperationTypeNode,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';

/** One subgraph query the executor wants to send: its document and variables. */
export interface PlannedFetch {
  query: string;
  variables?: Record<string, unknown>;
}

/** What a subgraph answered (the parts the executor reads). */
export interface FetchResult {
  data?: Record<string, unknown> | null;
  errors?: GraphQLFormattedError[];
  extensions?: Record<string, unknown>;
}

/** Several queries to one subgraph as one: the document, its variables, and how to split its answer. */
export interface MergedFetch {
  query: string;
  operationName: string;
  variables: Record<string, unknown>;
  split(result: FetchResult): FetchResult[];
}

/**
 * Merges queries that one request sends to the same subgraph at the same moment into one query.
 *
 * Why: the query planner sends one fetch per plan node, and the nodes of a `Parallel` (or the ones
 * that become ready together) often go to the same subgraph: the deep query of the public gateways
 * benchmark asks `inventory` and `products` twice each at the same step. Every fetch costs a round
 * trip, an HTTP request and a GraphQL execution set-up on both sides; one query with the root
 * fields of each renamed costs one of each. The renaming is mechanical: the root field `f` of the
 * i-th query becomes `_i_f`, its variable `$v` becomes `$v_i` and its fragment `F` becomes `F_i`,
 * so nothing of one query can meet anything of another. The answer is split back by those names:
 * each query gets its own `data`, and the errors whose path starts in its fields, with the path
 * renamed back (an error without a path concerns every query).
 *
 * Returns undefined when a query cannot be merged (not a single query operation whose root
 * selections are all fields); the caller then sends the queries one by one.
 */
export function mergeFetches(fetches: PlannedFetch[]): MergedFetch | undefined {
  const shapes = fetches.map((fetch) => shapeOf(fetch.query));
  if (shapes.some((shape) => !shape)) return undefined;
  const key = fetches.map((fetch) => fetch.query).join('\u0000');
  let merged = mergedDocuments.get(key);
  if (!merged) {
    merged = mergeDocuments(shapes as Shape[]);
    remember(mergedDocuments, key, merged);
  }
  const variables: Record<string, unknown> = {};
  fetches.forEach((fetch, i) => {
    for (const [name, value] of Object.entries(fetch.variables ?? {})) variables[`${name}_${i}`] = value;
  });
  const { query, rootKeys } = merged;
  return {
    query,
    operationName: MERGED_OPERATION_NAME,
    variables,
    split(result) {
      return rootKeys.map((keys, i) => {
        const prefix = `_${i}_`;
        let data: Record<string, unknown> | null | undefined = result.data;
        if (result.data) {
          data = {};
          for (const key of keys) if (prefix + key in result.data) data[key] = result.data[prefix + key];
        }
        const errors = result.errors?.flatMap((error) => {
          const first = error.path?.[0];
          if (typeof first !== 'string' || !/^_\d+_/.test(first)) return [error];
          if (!first.startsWith(prefix)) return [];
          return [{ ...error, path: [first.slice(prefix.length), ...error.path!.slice(1)] }];
        });
        return { data, ...(errors?.length ? { errors } : {}), ...(result.extensions ? { extensions: result.extensions } : {}) };
      });
    },
  };
}

const MERGED_OPERATION_NAME = 'MergedFetches';

interface Shape {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

// The planner produces a fixed set of subgraph queries per supergraph, so both caches stay small;
// the bound only protects against a supergraph that keeps changing.
const CACHE_LIMIT = 2000;
const shapes = new Map<string, Shape | null>();
const mergedDocuments = new Map<string, { query: string; rootKeys: string[][] }>();
function remember<V>(cache: Map<string, V>, key: string, value: V) {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}

function shapeOf(query: string): Shape | undefined {
  let shape = shapes.get(query);
  if (shape === undefined) {
    shape = null;
    try {
      const document = parse(query, { noLocation: true });
      const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      const operation = operations[0];
      if (operations.length === 1 && operation?.operation === 'query' && operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && !s.directives?.length)) {
        shape = { document, operation };
      }
    } catch {
      shape = null;
    }
    remember(shapes, query, shape);
  }
  return shape ?? undefined;
}

function mergeDocuments(shapes: Shape[]): { query: string; rootKeys: string[][] } {
  const variableDefinitions: VariableDefinitionNode[] = [];
  const selections: FieldNode[] = [];
  const fragments: DocumentNode['definitions'][number][] = [];
  const rootKeys: string[][] = [];
  shapes.forEach(({ document }, i) => {
    const renamed = visit(document, {
      Variable: (node) => ({ ...node, name: { ...node.name, value: `${node.name.value}_${i}` } }),
      FragmentSpread: (node) => ({ ...node, name: { ...node.name, value: `${node.name.value}_${i}` } }),
      FragmentDefinition: (node) => ({ ...node, name: { ...node.name, value: `${node.name.value}_${i}` } }),
    });
    const keys: string[] = [];
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        fragments.push(definition);
        continue;
      }
      const operation = definition as OperationDefinitionNode;
      variableDefinitions.push(...(operation.variableDefinitions ?? []));
      for (const field of operation.selectionSet.selections as FieldNode[]) {
        const key = field.alias?.value ?? field.name.value;
        keys.push(key);
        selections.push({ ...field, alias: { kind: Kind.NAME, value: `_${i}_${key}` } });
      }
    }
    rootKeys.push(keys);
  });
  const operation: OperationDefinitionNode = {
    kind: Kind.OPERATION_DEFINITION,
    operation: OperationTypeNode.QUERY,
    name: { kind: Kind.NAME, value: MERGED_OPERATION_NAME },
    variableDefinitions,
    selectionSet: { kind: Kind.SELECTION_SET, selections },
  };
  const query = print({ kind: Kind.DOCUMENT, definitions: [operation, ...fragments] as DocumentNode['definitions'] });
  return { query, rootKeys };
}
