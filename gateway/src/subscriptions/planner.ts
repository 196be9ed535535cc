import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode, type SubscriptionNode } from '@apollo/query-planner';
import {
  GraphQLError,
  Kind,
  getNamedType,
  isObjectType,
  parse,
  print,
  specifiedRules,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { ErrorCode } from '@analytica/errors';
import { callerChannel, entityChannel } from '@analytica/redis/live';

/**
 * Everything the engine needs to run one subscription operation, worked out once per distinct
 * operation (planning costs about a millisecond; an event must never pay it).
 */
export interface PreparedSubscription {
  document: DocumentNode;
  operationName: string | undefined;
  /** The subgraph that owns the root field and publishes its events. */
  owner: string;
  /**
   * `entity`: the root field names entities by key, events are their new states on
   * `<Type>.<key>`, and a subscriber starts with the current state. `caller`: the root field has no
   * argument, events belong to the signed-in user alone and arrive on that user's channel.
   */
  kind: 'entity' | 'caller';
  /** The root field's response name (its alias, or its name). */
  responseName: string;
  /** The type the root field returns; for `entity` streams its key field: events arrive on `<Type>.<key value>`. */
  entityType: string;
  keyField: string | undefined;
  /** The root field's argument that carries the key value(s) (`entity` streams). */
  keyArgument: string | undefined;
  /** The owner's fetch, answered from the event payload. */
  primary: FetchNode;
  /** The fetches to other subgraphs, run per event (null when the owner has every field). */
  rest: PlanNode | null;
  /** Fields the payload must carry for the primary fetch to be answered without a round trip. */
  primaryFields: string[];
  /** `_entities` query on the owner, used when an event's payload lacks some primary fields. */
  ownerEntitiesQuery: string;
  /** True when every selected field is the same for every signed-in user (tagged "public"). */
  shared: boolean;
}

export interface SupergraphView {
  supergraph: Supergraph;
  apiSchema: GraphQLSchema;
  supergraphSchema: GraphQLSchema;
  prepare(document: DocumentNode, operationName: string | undefined): PreparedSubscription | readonly GraphQLError[];
  subgraphUrls(): Map<string, string>;
}

const PUBLIC_TAG = 'public';
const PRIVATE_TAG = 'private';

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
}

/**
 * Plans subscriptions over one supergraph with the federation query planner. A subscription root
 * field belongs to one subgraph and either returns an entity with a single key field, its one
 * argument holding the key value (or a list of them), or has no argument at all and carries the
 * caller's own events (`@analytica/redis/live` names both channels). That convention is the whole
 * contract between the subgraph that publishes events and this engine: a new subscription field
 * needs no gateway code.
 */
export interface OperationLimits {
  /** The gateway's query limits (GraphQL Armor: depth, cost, aliases, directives), as over HTTP. */
  validationRules?: readonly ValidationRule[];
  /** Production: no "Did you mean ...?" in validation errors, as over HTTP. */
  hideSuggestions?: boolean;
}

export function createSupergraphView(supergraphSdl: string, limits: OperationLimits = {}): SupergraphView {
  const supergraph = Supergraph.build(supergraphSdl);
  const apiSchema = supergraph.apiSchema().toGraphQLJSSchema();
  const supergraphSchema = supergraph.schema.toGraphQLJSSchema();
  const planner = new QueryPlanner(supergraph);
  const cache = new Map<string, PreparedSubscription | readonly GraphQLError[]>();
  const byDocument = new WeakMap<DocumentNode, Map<string | undefined, PreparedSubscription | readonly GraphQLError[]>>();

  function isPublic(typeName: string, fieldName: string): boolean {
    const type = supergraph.schema.type(typeName);
    if (!type || !('field' in type)) return false;
    const tagged = (element: { appliedDirectivesOf(name: string): { arguments(): Record<string, unknown> }[] } | undefined, tag: string) =>
      !!element?.appliedDirectivesOf('tag').some((d) => d.arguments().name === tag);
    if (fieldName === '__typename') return true;
    const field = (type as unknown as { field(name: string): never }).field(fieldName);
    // A public type's fields are public unless one is tagged private (e.g. savedByMe).
    return tagged(field, PUBLIC_TAG) || (tagged(type as never, PUBLIC_TAG) && !tagged(field, PRIVATE_TAG));
  }

  /** Walks the client's selection: shared only if every field is public. */
  function allPublic(selectionSet: SelectionSetNode | undefined, typeName: string, fragments: Map<string, SelectionSetNode>): boolean {
    if (!selectionSet) return true;
    const type = apiSchema.getType(typeName);
    if (!isObjectType(type)) return false;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (!isPublic(typeName, selection.name.value)) return false;
        if (selection.name.value === '__typename') continue;
        const field = type.getFields()[selection.name.value];
        if (!field) return false;
        if (!allPublic(selection.selectionSet, getNamedType(field.type).name, fragments)) return false;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!allPublic(selection.selectionSet, selection.typeCondition?.name.value ?? typeName, fragments)) return false;
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || !allPublic(fragment, typeName, fragments)) return false;
      }
    }
    return true;
  }

  function prepareUncached(document: DocumentNode, operationName: string | undefined): PreparedSubscription | readonly GraphQLError[] {
    // The same rules as an HTTP request: graphql-js's and the gateway's limits.
    const errors = validate(apiSchema, document, [...specifiedRules, ...(limits.validationRules ?? [])]);
    if (errors.length) {
      return errors.map(
        (e) =>
          new GraphQLError(limits.hideSuggestions ? e.message.replace(/ ?Did you mean .*\?$/, '') : e.message, {
            nodes: e.nodes,
            extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
          }),
      );
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) return [badRequest(operationName ? `No operation named "${operationName}".` : 'Name the operation to run (operationName).')];
    if (operation.operation !== 'subscription') return [badRequest('Only subscription operations run over this connection; send queries and mutations over HTTP.')];
    const rootFields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
    if (rootFields.length !== 1 || operation.selectionSet.selections.length !== 1) {
      return [badRequest('A subscription selects exactly one root field.')];
    }
    const rootField = rootFields[0]!;
    const fieldDef = apiSchema.getSubscriptionType()?.getFields()[rootField.name.value];
    if (!fieldDef) return [badRequest(`Unknown subscription field "${rootField.name.value}".`)];

    const plan = planner.buildQueryPlan(operationFromDocument(supergraph.apiSchema(), document, { operationName: operation.name?.value }));
    const node = plan.node as SubscriptionNode | undefined;
    if (node?.kind !== 'Subscription') return [internalError('the planner did not produce a subscription plan')];
    const primary = node.primary;
    const entityType = getNamedType(fieldDef.type).name;
    const ownerType = supergraph.subgraphs().get(primary.serviceName)?.schema.type(entityType) as
      { appliedDirectivesOf(name: string): { arguments(): Record<string, unknown> }[] } | undefined;
    const keys = ownerType?.appliedDirectivesOf('key').map((d) => String(d.arguments().fields).trim()) ?? [];
    const keyField = keys.find((k) => /^\w+$/.test(k));
    const kind = fieldDef.args.length === 0 ? 'caller' : 'entity';
    if (kind === 'entity' && (!keyField || fieldDef.args.length !== 1)) {
      return [
        internalError(
          `subscription field "${fieldDef.name}" does not follow the convention (one argument holding the key of an entity with a single key field, or no argument for the caller's own events)`,
        ),
      ];
    }
    const fragments = new Map(document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d.selectionSet] as const] : [])));
    const primaryDocument = parse(primary.operation);
    const primaryOperation = primaryDocument.definitions[0] as OperationDefinitionNode;
    const primaryRoot = primaryOperation.selectionSet.selections[0] as FieldNode;
    const primaryFields = (primaryRoot.selectionSet?.selections ?? []).flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
    // The owner's entity query declares only the variables its selection uses (never the key's).
    const used = new Set<string>();
    visit(primaryRoot.selectionSet!, { Variable: (node) => void used.add(node.name.value) });
    const variableDefinitions = primaryOperation.variableDefinitions?.filter((v) => used.has(v.variable.name.value));
    const ownerEntitiesQuery =
      `query($representations:[_Any!]!${variableDefinitions?.length ? `,${variableDefinitions.map((v) => print(v)).join(',')}` : ''})` +
      `{_entities(representations:$representations){...on ${entityType}${print(primaryRoot.selectionSet!)}}}`;
    return {
      document,
      operationName: operation.name?.value,
      owner: primary.serviceName,
      kind,
      responseName: rootField.alias?.value ?? rootField.name.value,
      entityType,
      keyField,
      keyArgument: fieldDef.args[0]?.name,
      primary,
      rest: node.rest ?? null,
      primaryFields,
      ownerEntitiesQuery,
      // A caller's events are theirs alone, whatever the tags say.
      shared: kind === 'entity' && isPublic('Subscription', fieldDef.name) && allPublic(rootField.selectionSet, entityType, fragments),
    };
  }

  return {
    supergraph,
    apiSchema,
    supergraphSchema,
    prepare(document, operationName) {
      // The same document object (the WebSocket layer parses each text once) skips printing it.
      const byName = byDocument.get(document);
      const known = byName?.get(operationName);
      if (known) return known;
      const cacheKey = `${operationName ?? ''}\u0000${print(document)}`;
      let prepared = cache.get(cacheKey);
      if (!prepared) {
        prepared = prepareUncached(document, operationName);
        if (cache.size > 5000) cache.clear();
        cache.set(cacheKey, prepared);
      }
      if (byName) byName.set(operationName, prepared);
      else byDocument.set(document, new Map([[operationName, prepared]]));
      return prepared;
    },
    subgraphUrls() {
      return new Map([...supergraph.subgraphs()].map((s) => [s.name, s.url]));
    },
  };
}

function internalError(message: string) {
  return new GraphQLError(`This subscription cannot be served: ${message}.`, { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
}

/**
 * The channels of one subscription: `<Entity>.<key value>` for each key value in its argument, or
 * the caller's own channel for the type.
 */
export function channelsFor(prepared: PreparedSubscription, rootField: FieldNode, variables: Record<string, unknown>, userId: string): string[] | GraphQLError {
  if (prepared.kind === 'caller') return [callerChannel(prepared.entityType, userId)];
  const argument = rootField.arguments?.find((a) => a.name.value === prepared.keyArgument);
  let value: unknown;
  if (!argument) return new GraphQLError(`Give the "${prepared.keyArgument}" argument.`, { extensions: { code: ErrorCode.BAD_USER_INPUT } });
  if (argument.value.kind === Kind.VARIABLE) value = variables[argument.value.name.value];
  else value = literal(argument.value);
  const values = (Array.isArray(value) ? value : [value]).filter((v): v is string | number => typeof v === 'string' || typeof v === 'number');
  if (values.length === 0) {
    return new GraphQLError(`"${prepared.keyArgument}" must name at least one ${prepared.entityType}.`, {
      extensions: { code: ErrorCode.BAD_USER_INPUT, field: prepared.keyArgument },
    });
  }
  return [...new Set(values.map((v) => entityChannel(prepared.entityType, v)))];
}

function literal(node: import('graphql').ValueNode): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(node.value);
    case Kind.LIST:
      return node.values.map(literal);
    default:
      return undefined;
  }
}

export function rootFieldOf(prepared: PreparedSubscription): FieldNode {
  const operation = prepared.document.definitions.find(
    (d): d is OperationDefinitionNode =>
      d.kind === Kind.OPERATION_DEFINITION && d.operation === 'subscription' && (prepared.operationName === undefined || d.name?.value === prepared.operationName),
  )!;
  return operation.selectionSet.selections[0] as FieldNode;
}
