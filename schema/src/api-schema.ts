import { Supergraph } from '@apollo/federation-internals';
import { printSchema } from 'graphql';

/**
 * The client-facing API schema of a supergraph: no join__/link__ internals, @inaccessible elements
 * removed (`Supergraph.build(sdl).apiSchema()`), printed by graphql-js so that two versions compare
 * like with like. Its own module because the registry and contracts both build on it.
 */
export function apiSchemaOf(supergraphSdl: string): string {
  return `${printSchema(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema()).trim()}\n`;
}
