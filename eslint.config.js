// ESLint for the whole monorepo, run by `npm run lint:es` (part of `npm run lint` and `npm test`).
// It looks for bugs; formatting is prettier's job (.prettierrc) and import boundaries and circles are
// dependency-cruiser's (.dependency-cruiser.cjs). The type-aware rules read the root tsconfig.json.
//
// KNOWN ERRORS. eslint-suppressions.json lists the errors of files that were being edited when
// linting was introduced (see ESLint's "bulk suppressions"); they pass, any new one fails. After
// fixing one, shrink the list with `npx eslint --prune-suppressions .`; never grow it.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Tests and the code that only tests use: harnesses, fixtures, the root e2e/security suites, packages/testing.
const TESTS = ['**/*.test.ts', 'test/**', '**/*-harness.ts', '**/fixtures/**', 'packages/testing/**'];

export default tseslint.config(
  {
    ignores: ['**/node_modules/', '**/dist/', '**/coverage/', '**/.data/', '.turbo/', 'examples/web-app/src/gql/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: ['error', 'smart'],
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Type-aware rules that find lost errors: a promise nobody awaits or catches, an async callback
    // where a plain one is expected, a `return` that skips the surrounding catch, a thrown non-Error.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/only-throw-error': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
    },
  },
  {
    // The admin console: browser code with a tsconfig of its own (DOM, JSX), the same lost-error rules.
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { project: ['./console/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    // The reference web app: browser code with its own tsconfig, and the same lost-error rules.
    files: ['examples/web-app/**/*.ts', 'examples/web-app/**/*.tsx'],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { project: ['./examples/web-app/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests read untyped JSON answers.
    files: TESTS,
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Programs whose job is to print: the dev banner and stack, benchmarks, the schema CLIs, and the
    // e2e suites' run summaries. Services log through @analytica/logger.
    files: ['dev/**', 'bench/**', 'schema/src/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
