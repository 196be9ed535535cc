// Import boundaries of the monorepo (issue 19), checked by `npm run lint:deps`. The layers, each
// allowed to use the ones on its left:
//
//   packages  <-  gateway  <-  subgraphs  <-  workers, infra  <-  dev  <-  bench
//
// From outside, a subgraph is used only through the faces its package.json declares in `exports`.
// There are no known exceptions: any breach fails `npm test`.
const fs = require('node:fs');
const path = require('node:path');

const root = __dirname;
const readJson = (file) => JSON.parse(fs.readFileSync(path.join(root, file), 'utf8'));

/** The workspaces of the root package.json: [{ dir: 'subgraphs/market', manifest }]. */
function workspaces() {
  return readJson('package.json').workspaces.flatMap((pattern) => {
    const dirs = pattern.endsWith('/*')
      ? fs
          .readdirSync(path.join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern];
    return dirs.filter((dir) => fs.existsSync(path.join(root, dir, 'package.json'))).map((dir) => ({ dir, manifest: readJson(`${dir}/package.json`) }));
  });
}
const WORKSPACES = workspaces();
const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anyOf = (dirs) => `^(${dirs.map(escapeRegExp).join('|')})/`;

/**
 * The faces each subgraph declares in package.json `exports`: `{ file, subpath }` with the file as a
 * path from the root. `.` is the service itself; a subpath (`./quotes`) is a part made for others.
 */
const FACES = WORKSPACES.filter(({ dir }) => dir.startsWith('subgraphs/')).flatMap(({ dir, manifest }) => {
  const field = typeof manifest.exports === 'string' ? { '.': manifest.exports } : (manifest.exports ?? {});
  return Object.entries(field).flatMap(([subpath, target]) =>
    (typeof target === 'string' ? [target] : Object.values(target)).map((file) => ({ file: path.posix.join(dir, file), subpath })),
  );
});
const filesOf = (faces) => (faces.length > 0 ? `^(${faces.map((face) => escapeRegExp(face.file)).join('|')})$` : '^$');

// Test code and test support: tests, harnesses, fixtures, the root e2e/security suites, packages/testing.
const TESTS = '(\\.test\\.ts$|(^|/)test/|-harness\\.ts$|(^|/)fixtures/|^packages/testing/)';
// Code that ships in a service or library: a workspace's src/, tests excepted (dev/ and bench/ are tools).
const PRODUCT = '^((packages|subgraphs|workers|infra/simulators)/[^/]+|gateway|infra/smtp|schema)/src/';

/**
 * npm only links a workspace into node_modules, so dependency-cruiser sees an import of another
 * workspace as a plain file and its `no-non-package-json` cannot tell whether the importing
 * workspace declares it. These rules, made from each package.json, do: a workspace (or, for the
 * root's test/ and config files, the root package.json) may import another workspace only if it
 * lists it, and its product code only if it lists it under `dependencies`; and no relative path
 * leads out of one workspace into another.
 */
function workspaceDeclarationRules() {
  const byName = new Map(WORKSPACES.map((w) => [w.manifest.name, w.dir]));
  const importers = [
    ...WORKSPACES.map(({ dir, manifest }) => ({ dir, manifest })),
    { dir: null, manifest: readJson('package.json') }, // the root: test/, vitest.config.ts
  ];
  const rules = [];
  for (const { dir, manifest } of importers) {
    const runtime = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies, ...manifest.optionalDependencies }));
    const declared = new Set([...runtime, ...Object.keys(manifest.devDependencies ?? {})]);
    const others = [...byName].filter(([name]) => name !== manifest.name);
    const undeclared = others.filter(([name]) => !declared.has(name)).map(([, other]) => other);
    const devOnly = others.filter(([name]) => declared.has(name) && !runtime.has(name)).map(([, other]) => other);
    if (undeclared.length > 0) {
      rules.push({
        name: 'no-non-package-json',
        severity: 'error',
        comment: `Imports a workspace that ${manifest.name}'s package.json does not declare.`,
        from: dir ? { path: `^${escapeRegExp(dir)}/` } : { pathNot: anyOf(WORKSPACES.map((w) => w.dir)) },
        to: { path: anyOf(undeclared), dependencyTypesNot: ['local'] },
      });
    }
    if (dir) {
      rules.push({
        name: 'no-relative-import-across-workspaces',
        severity: 'error',
        comment: `A relative path out of ${dir}/ into another workspace: import it by its package name, through a face it exports, and declare it.`,
        from: { path: `^${escapeRegExp(dir)}/` },
        to: { path: anyOf(others.map(([, other]) => other)), dependencyTypes: ['local'] },
      });
    }
    if (dir && new RegExp(PRODUCT).test(`${dir}/src/`) && devOnly.length > 0) {
      rules.push({
        name: 'not-to-dev-dep',
        severity: 'error',
        comment: `Product code imports a workspace that ${manifest.name} declares only in devDependencies: it is missing in a production install.`,
        from: { path: `^${escapeRegExp(dir)}/src/`, pathNot: TESTS },
        to: { path: anyOf(devOnly), dependencyTypesNot: ['type-only'] },
      });
    }
  }
  return rules;
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import circle (type-only imports count): the modules can only be read, loaded and tested together. Break it, e.g. with a context.ts.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-subgraph-to-gateway',
      severity: 'error',
      comment: 'A subgraph sits above the gateway in the import graph: the gateway composes subgraphs, never the other way round.',
      from: { path: '^subgraphs/' },
      to: { path: '^gateway/' },
    },
    {
      name: 'no-gateway-to-subgraph',
      severity: 'error',
      comment: "The gateway's own code knows subgraphs only through the supergraph; its tests may start one.",
      from: { path: '^gateway/', pathNot: TESTS },
      to: { path: '^subgraphs/' },
    },
    {
      name: 'no-subgraph-to-subgraph',
      severity: 'error',
      comment:
        "A subgraph reaches into another one. Contexts talk through the graph or events, shared code goes down into packages/*; at most a subgraph may use a part another one exports for others (a subpath face such as '@analytica/market-subgraph/quotes', never its service entry '.').",
      from: { path: '^subgraphs/([^/]+)/' },
      to: { path: '^subgraphs/', pathNot: ['^subgraphs/$1/', filesOf(FACES.filter((face) => face.subpath !== '.'))] },
    },
    {
      name: 'packages-depend-only-on-packages',
      severity: 'error',
      comment: 'packages/* are the bottom layer: they may use each other and npm packages, nothing above them.',
      from: { path: '^packages/' },
      to: { path: '^(gateway|subgraphs|workers|infra|schema|dev|bench|test)/' },
    },
    {
      name: 'only-declared-faces',
      severity: 'error',
      comment: "Workers and simulators use a subgraph only through a face its package.json declares in `exports` (e.g. '@analytica/market-subgraph/quotes'), never a deep path.",
      from: { path: '^(workers|infra)/' },
      to: { path: '^subgraphs/', pathNot: filesOf(FACES) },
    },
    {
      name: 'no-src-to-test-support',
      severity: 'error',
      comment: 'Product code imports test code or test support (a harness, fixtures, @analytica/testing). Test support lives outside src/.',
      from: { path: PRODUCT, pathNot: TESTS },
      to: { path: TESTS },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing on disk: a typo, a missing install, or a face the package does not export.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: "An npm package that the importing workspace's own package.json does not declare: it only works because npm hoisted it.",
      from: {},
      // vitest is the repository's one test runner: declared once at the root, where
      // vitest.config.ts runs every workspace's tests.
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'], pathNot: '^node_modules/vitest/' },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment: 'Product code imports an npm devDependency of its workspace: it is missing in a production install.',
      from: { path: PRODUCT, pathNot: TESTS },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    ...workspaceDeclarationRules(),
  ],
  options: {
    // node_modules is looked at (to check declarations) but not followed.
    doNotFollow: { path: 'node_modules' },
    // Build output of our own workspaces only: npm packages whose entry sits under dist/
    // (@apollo/server, ...) must still be seen, or an undeclared import of them would pass.
    exclude: { path: ['(^|/)\\.data/', '(^|/)\\.turbo/', '^(packages|subgraphs|workers|infra|gateway|schema|dev|bench)/.*dist/', '(^|/)coverage/'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Each workspace is checked against its own package.json, not merged with the root's.
    combinedDependencies: false,
    enhancedResolveOptions: {
      // Honour package.json `exports`: a subpath a package does not export does not resolve.
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
