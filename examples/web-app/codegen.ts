import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Types for every operation in src from the client-facing schema (schema/api.graphql, what the
 * gateway serves, without federation's internals). `npm run codegen -w examples/web-app` after
 * changing an operation or the schema; `npm test` fails when src/gql is not what this would write.
 */
const config: CodegenConfig = {
  schema: '../../schema/api.graphql',
  documents: ['src/**/*.tsx', 'src/**/*.ts', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        onlyOperationTypes: true,
        scalars: { DateTimeISO: 'string', SafeInt: 'number', JSONObject: 'Record<string, unknown>' },
      },
    },
  },
};
export default config;
