import { buildSchema, getNamedType, isListType, isNonNullType, isObjectType, isInterfaceType, isEnumType, isInputObjectType, type GraphQLField, type GraphQLSchema } from 'graphql';

/**
 * The API's conventions for lists and deprecations, checked on the client-facing schema
 * (schema/api.graphql) so that a new field cannot quietly break them:
 * - a list a client pages through (`first`, `offset`, `after`, `limit` arguments) is a Relay
 *   connection, never a plain list that stops at a cap;
 * - a connection has `edges`, `pageInfo: PageInfo!` and `totalCount: Int!`;
 * - a deprecation says when it was made and when the element goes.
 * Fields on their way out (deprecated) are exempt from the first rule: their replacement is not.
 */

/** Types whose name ends in Connection in the finance sense, not Relay's. */
export const NOT_PAGES: Readonly<Record<string, string>> = {
  BankConnection: "a link to a bank through the user's consent, not a page of a list",
};

/** Connections without `totalCount`, each with the reason it cannot be had cheaply. */
export const UNCOUNTED_CONNECTIONS: Readonly<Record<string, string>> = {
  ArticleConnection:
    'the news lists (articles, myFeed, savedArticlesConnection) are read from DynamoDB a page at a time, hidden articles skipped; counting them would read every article',
  NewsAuditEntryConnection:
    'the news moderation log (newsAuditLogConnection) is an append-only DynamoDB table with one partition per month; counting it would read every entry of every month',
};

/**
 * Paged plain lists not yet turned into connections: each is a known gap with the reason it is
 * still here. Remove an entry when its field becomes a connection; never add one for a new field.
 */
export const PLAIN_LIST_GAPS: Readonly<Record<string, string>> = {
  'ImportResult.lines': 'the lines of one import result, paged by offset within that one answer',
  'Query.searchInstruments': 'a search: the best matches by relevance, not a list to page through',
  'Query.movers': 'the top gainers or losers of a region: a ranking, not a list to page through',
  'Movers.gainers': 'the top gainers of a region: a ranking, not a list to page through',
  'Movers.losers': 'the top losers of a region: a ranking, not a list to page through',
};

const PAGING_ARGUMENTS = new Set(['first', 'after', 'offset', 'limit', 'last', 'before']);
const DEPRECATION = /Deprecated \d{4}-\d{2}-\d{2}; to be removed after \d{4}-\d{2}-\d{2}\./;

/**
 * Every breach of the conventions in the API schema, as `Coordinate: what is wrong`; `gaps` are
 * the paged plain lists let through (and a gap that is no longer one is itself a breach).
 */
export function conventionBreaches(apiSdl: string, gaps: Readonly<Record<string, string>> = PLAIN_LIST_GAPS): string[] {
  const schema = buildSchema(apiSdl);
  const breaches: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      if (type.name.endsWith('Connection') && !(type.name in NOT_PAGES)) breaches.push(...connectionBreaches(schema, type.name, type.getFields()));
      for (const field of Object.values(type.getFields())) {
        const coordinate = `${type.name}.${field.name}`;
        breaches.push(...deprecationBreaches(coordinate, field.deprecationReason));
        for (const arg of field.args) breaches.push(...deprecationBreaches(`${coordinate}(${arg.name}:)`, arg.deprecationReason));
        if (isPagedPlainList(field) && !field.deprecationReason && !(coordinate in gaps)) {
          breaches.push(`${coordinate}: a paged list (${pagingArguments(field).join(', ')}) must be a Relay connection (first, after; edges, pageInfo, totalCount)`);
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) breaches.push(...deprecationBreaches(`${type.name}.${field.name}`, field.deprecationReason));
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) breaches.push(...deprecationBreaches(`${type.name}.${value.name}`, value.deprecationReason));
    }
  }
  for (const [coordinate, reason] of Object.entries(gaps)) {
    const [typeName, fieldName] = coordinate.split('.') as [string, string];
    const owner = schema.getType(typeName);
    const field = owner && (isObjectType(owner) || isInterfaceType(owner)) ? owner.getFields()[fieldName] : undefined;
    if (!field || !isPagedPlainList(field)) breaches.push(`${coordinate}: listed as a paged plain list (${reason}) but it is not one any more: remove it from PLAIN_LIST_GAPS`);
  }
  return breaches.sort();
}

function pagingArguments(field: GraphQLField<unknown, unknown>): string[] {
  return field.args.filter((a) => PAGING_ARGUMENTS.has(a.name)).map((a) => a.name);
}

function isPagedPlainList(field: GraphQLField<unknown, unknown>): boolean {
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  return isListType(type) && pagingArguments(field).length > 0;
}

function connectionBreaches(schema: GraphQLSchema, name: string, fields: Record<string, GraphQLField<unknown, unknown>>): string[] {
  const breaches: string[] = [];
  const edges = fields.edges;
  if (!edges || String(edges.type) !== `[${name.slice(0, -'Connection'.length)}Edge!]!`) breaches.push(`${name}: edges must be [${name.slice(0, -'Connection'.length)}Edge!]!`);
  else {
    const edge = getNamedType(edges.type);
    const edgeFields = isObjectType(edge) ? edge.getFields() : {};
    if (String(edgeFields.cursor?.type) !== 'String!' || !edgeFields.node || !isNonNullType(edgeFields.node.type))
      breaches.push(`${edge.name}: needs cursor: String! and a non-null node`);
  }
  if (String(fields.pageInfo?.type) !== 'PageInfo!' || !schema.getType('PageInfo')) breaches.push(`${name}: pageInfo must be PageInfo!`);
  if (!(name in UNCOUNTED_CONNECTIONS) && String(fields.totalCount?.type) !== 'Int!') breaches.push(`${name}: totalCount must be Int! (how many items across all pages)`);
  return breaches;
}

function deprecationBreaches(coordinate: string, reason: string | null | undefined): string[] {
  if (reason == null) return [];
  return DEPRECATION.test(reason) ? [] : [`${coordinate}: the deprecation reason must say what to use instead and end "Deprecated YYYY-MM-DD; to be removed after YYYY-MM-DD."`];
}
