// Bundles a service or worker to `<dir>/dist/main.js` with esbuild: Node 20, ESM, source map.
// The workspace packages (@analytica/*) are bundled in; every other package stays an import that
// the image's production node_modules answers (see infra/docker/file-set.mjs).
//
//   node infra/build/build.mjs [service|dir ...]   (no argument: the workspace of the current folder,
//                                                   as `npm run build` runs it through turbo; --all: every service)
//
// What bundling changes, and how it is kept as it was:
// - `import.meta.url` would name dist/main.js in every bundled module, so files read relative to a
//   module (data/*.json, the supergraph, ml/artefacts) would be looked for in the wrong folder. Each
//   module's `import.meta.url` is rewritten to its source file's URL relative to the bundle, and the
//   image keeps the repository's layout (file-set.mjs copies those files to the same places).
// - Class names: type-graphql and MikroORM name types and entities after classes; keepNames keeps
//   `.name` when the bundle renames a class that two modules both declare.
// - Decorators: the root tsconfig.json (experimentalDecorators, useDefineForClassFields false), as tsx
//   reads it; like tsx, esbuild emits no decorator metadata, so the code gives explicit types.
// - A package found from a bundled module must be the one found from dist/: a version that npm
//   nested under one workspace's node_modules would otherwise be swapped silently (checked below).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot, SERVICES, serviceOf, unlistedEntries } from './services.mjs';

const BUILTINS = new Set(builtinModules);
const posix = (p) => p.split(path.sep).join('/');

/** The package name of a bare import: `@aws-sdk/client-s3/x` -> `@aws-sdk/client-s3`, `pg/lib` -> `pg`. */
export function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The folder of package `name` that Node finds from `fromDir` (node_modules upwards), or null. */
function packageDirFrom(fromDir, name) {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (dir === path.dirname(dir)) return null;
  }
}

/** Builds one service; returns what it bundled and what it left to node_modules. */
export async function buildService(service) {
  const workspace = path.join(repoRoot, service.dir);
  const outdir = path.join(workspace, 'dist');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const externals = new Map(); // package -> first importer
  const problems = [];
  const plugin = {
    name: 'analytica',
    setup(b) {
      // Bare imports: @analytica/* is bundled (resolved by esbuild through the workspace links), the rest stays external.
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@analytica/')) return undefined;
        if (args.path.startsWith('node:') || BUILTINS.has(args.path) || BUILTINS.has(packageName(args.path))) return { path: args.path, external: true };
        const name = packageName(args.path);
        const fromSource = packageDirFrom(args.resolveDir, name);
        const fromBundle = packageDirFrom(outdir, name);
        if (fromSource && fromSource !== fromBundle) {
          problems.push(
            `${path.relative(repoRoot, args.importer)} imports ${name} from ${path.relative(repoRoot, fromSource)}, but dist/main.js would load ${fromBundle ? path.relative(repoRoot, fromBundle) : 'nothing'}`,
          );
        }
        if (!externals.has(name)) externals.set(name, path.relative(repoRoot, args.importer));
        return { path: args.path, external: true };
      });
      // Each module's import.meta.url: its source file, seen from dist/ (the image keeps the layout).
      b.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const relative = posix(path.relative(outdir, args.path));
        return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'ts', resolveDir: path.dirname(args.path) };
      });
    },
  };
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [path.join(workspace, service.entry)],
    outfile: path.join(outdir, 'main.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: true,
    keepNames: true,
    tsconfig: path.join(repoRoot, 'tsconfig.json'),
    // ESM has no require(); a bundled module that calls it (none today) gets Node's own.
    banner: { js: "import { createRequire as __analyticaCreateRequire } from 'node:module'; const require = __analyticaCreateRequire(import.meta.url);" },
    plugins: [plugin],
    metafile: true,
    logLevel: 'warning',
  });
  if (problems.length > 0) throw new Error(`${service.name}: packages that bundling would swap:\n  ${problems.join('\n  ')}`);
  // The workspaces whose code is in the bundle: file-set.mjs copies their data/ folders.
  const workspaces = new Set();
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(packages\/[^/]+|subgraphs\/[^/]+|workers\/[^/]+|infra\/simulators\/[^/]+|infra\/smtp|gateway|schema)\/src\//.exec(posix(input));
    if (match) workspaces.add(match[1]);
  }
  const info = {
    service: service.name,
    dir: service.dir,
    port: service.port,
    workspaces: [...workspaces].sort(),
    externals: [...externals.keys()].sort(),
    assets: service.assets,
  };
  writeFileSync(path.join(outdir, 'bundle.json'), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

async function main() {
  const args = process.argv.slice(2);
  const unlisted = unlistedEntries();
  if (unlisted.length > 0) throw new Error(`workspaces with a src/main.ts that infra/build/services.mjs does not list: ${unlisted.join(', ')}`);
  const services = args.includes('--all') ? SERVICES : args.length > 0 ? args.map(serviceOf) : [serviceOf(posix(path.relative(repoRoot, process.cwd())))];
  for (const service of services) {
    const started = Date.now();
    const info = await buildService(service);
    process.stdout.write(
      `built ${service.dir}/dist/main.js in ${Date.now() - started} ms (${info.workspaces.length} workspaces bundled, ${info.externals.length} packages external)\n`,
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(repoRoot, 'infra/build/build.mjs')) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
