import {
  buildSchema,
  execute,
  GraphQLError,
  Kind,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/** One contract's API schema as the registry published it, built once per version. */
export interface Contract {
  name: string;
  /** The registry's contract version: part of every cache key, so a new version is checked afresh. */
  version: number;
  schema: GraphQLSchema;
}

export function buildContract(name: string, version: number, sdl: string): Contract {
  return { name, version, schema: buildSchema(sdl) };
}

/** What a partner's operation turned out to be against its contract. */
export type Verdict =
  | { kind: 'valid'; document: DocumentNode }
  /** Only `__schema` / `__type` / `__typename` at the root: answered from the contract schema itself. */
  | { kind: 'introspection'; document: DocumentNode }
  | { kind: 'invalid'; errors: GraphQLError[] }
  /** Not parseable: left to the server, whose parse error says where (it reveals nothing of the schema). */
  | { kind: 'unparsed' };

const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/**
 * Checks partner operations against their contract. A field outside the contract fails exactly as
 * an unknown field does ("Cannot query field ... on type ..."), because the document is validated
 * against the contract's own schema, which does not have it; suggestions can only name fields of
 * the contract. Verdicts are cached per contract version and document text: a partner sends the
 * same few operations again and again, and validation is most of the cost.
 */
export function createContractChecker(options: { maxTokens: number; cacheSize?: number }) {
  const cacheSize = options.cacheSize ?? 5000;
  const cache = new Map<string, Verdict>();

  function uncached(contract: Contract, query: string, operationName: string | undefined): Verdict {
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: options.maxTokens });
    } catch {
      return { kind: 'unparsed' };
    }
    const errors = validate(contract.schema, document, specifiedRules);
    if (errors.length) return { kind: 'invalid', errors: errors.map((e) => validationError(e.message, e)) };
    const operation = pickOperation(document, operationName);
    // Which operation runs is the server's question (it answers a missing or ambiguous name itself).
    if (!operation) return { kind: 'valid', document };
    const roots = rootFieldNames(document, operation.selectionSet);
    const introspective = [...roots].filter((name) => INTROSPECTION_ROOTS.has(name));
    if (introspective.length === 0) return { kind: 'valid', document };
    // The gateway answers introspection from its whole API schema; a partner's must come from its
    // contract, so it is answered here, and never mixed with data fetched through the gateway.
    if ([...roots].every((name) => INTROSPECTION_ROOTS.has(name) || name === '__typename')) return { kind: 'introspection', document };
    return { kind: 'invalid', errors: [validationError('Send introspection (__schema, __type) in an operation of its own, without data fields.')] };
  }

  return {
    check(contract: Contract, query: string, operationName?: string): Verdict {
      const key = `${contract.name}@${contract.version}\u0000${operationName ?? ''}\u0000${query}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const verdict = uncached(contract, query, operationName);
      if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
      cache.set(key, verdict);
      return verdict;
    },
  };
}

/** Runs an introspection-only operation against the contract schema (no resolvers are involved). */
export async function introspect(
  contract: Contract,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
): Promise<ExecutionResult> {
  return execute({ schema: contract.schema, document, operationName, variableValues: variables });
}

function validationError(message: string, source?: GraphQLError): GraphQLError {
  return new GraphQLError(message, { nodes: source?.nodes, source: source?.source, positions: source?.positions, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
}

/** The operation a request runs: the named one, or the only one. */
export function pickOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return operations.find((o) => o.name?.value === operationName);
  return operations.length === 1 ? operations[0] : undefined;
}

/** The root field names an operation selects, through fragments (spread or inline). */
function rootFieldNames(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>(), into = new Set<string>()): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      into.add(selection.name.value);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      rootFieldNames(document, selection.selectionSet, seen, into);
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) rootFieldNames(document, fragment.selectionSet, seen, into);
    }
  }
  return into;
}
