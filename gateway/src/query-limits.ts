import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type ValidationContext } from 'graphql';
import type { GatewayEnv } from './environment.js';

/**
 * Query limits: depth, cost, aliases and directives (GraphQL Armor) and tokens (graphql-js),
 * checked while the operation is parsed and validated, before the gateway plans or fetches
 * anything. A refusal is GRAPHQL_VALIDATION_FAILED or GRAPHQL_PARSE_FAILED (400); in production
 * it does not state the limit, and field suggestions ("Did you mean ...?") are masked.
 */
export function queryLimits(env: GatewayEnv) {
  const production = env.NODE_ENV === 'production';
  const refuse = (ctx: ValidationContext | null, error: GraphQLError) =>
    ctx?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }));
  const common = {
    exposeLimits: !production,
    errorMessage: 'The query is too large or too complex.',
    propagateOnRejection: false,
    onReject: [refuse],
  };
  const armor = new ApolloArmor({
    maxDepth: { n: env.GRAPHQL_MAX_DEPTH, flattenFragments: true, ignoreIntrospection: true, ...common },
    costLimit: { maxCost: env.GRAPHQL_MAX_COST, flattenFragments: true, ignoreIntrospection: true, ...common },
    maxAliases: { n: env.GRAPHQL_MAX_ALIASES, ...common },
    maxDirectives: { n: env.GRAPHQL_MAX_DIRECTIVES, ...common },
    // Armor's token counter throws from a plugin hook, which Apollo answers with 500; graphql-js's
    // own parser limit (parseOptions below) stops the same documents with GRAPHQL_PARSE_FAILED.
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: production },
  });
  const { plugins, validationRules } = armor.protect();
  return { plugins, validationRules, parseOptions: { maxTokens: env.GRAPHQL_MAX_TOKENS } };
}
