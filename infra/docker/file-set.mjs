// Assembles the files of one service's image into a folder, exactly what infra/docker/Dockerfile
// copies into its final stage (the Dockerfile runs this script), so that a machine without a
// Docker engine can run what the image would run (`npm run images:check`):
//
//   node infra/docker/file-set.mjs <service|dir> <out-dir>      (after `npm run build`)
//
// The folder keeps the repository's layout (the bundle finds its data files as the sources do):
//   <out>/node_modules/                 production dependencies of that workspace only:
//                                       `npm ci --omit=dev --workspace=<dir>` against the lockfile
//                                       (the workspaces' manifests as the lockfile records them),
//                                       then patches/ applied (patch-package, as the root postinstall does)
//   <out>/<dir>/package.json            the workspace's manifest ("type": "module")
//   <out>/<dir>/dist/                   main.js, main.js.map, bundle.json (from infra/build/build.mjs)
//   <out>/<workspace>/data/             the data folder of each workspace bundled in
//   <out>/<assets>                      the service's own assets (services.mjs): supergraph, ml/artefacts, ...
//   <out>/service.json                  name, folder and default port (read by healthcheck.mjs)
//   <out>/healthcheck.mjs               the image's HEALTHCHECK: GET /health on PORT
// The workspace links npm makes (node_modules/@analytica/*) are left out: that code is in the bundle.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, serviceOf } from '../build/services.mjs';

/**
 * The workspaces package-lock.json records, each with the manifest it recorded (name, version and
 * dependencies: what npm ci installs from). In a clean clone these are the package.json files; the
 * lockfile is the one source so that a manifest being edited beside it cannot change an image.
 */
function lockedWorkspaces() {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8'));
  return Object.entries(lock.packages ?? {})
    .filter(([dir, entry]) => dir !== '' && !dir.includes('node_modules/') && !entry.link)
    .map(([dir, entry]) => {
      const manifest = { name: entry.name, version: entry.version };
      for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies']) if (entry[field]) manifest[field] = entry[field];
      return { dir, manifest };
    });
}

/** Bytes under a folder (files only; symbolic links are not followed). */
export function sizeOf(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(full);
    else if (entry.isFile()) total += statSync(full).size;
  }
  return total;
}

export const megabytes = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The patches (patches/<name>+<version>.patch) whose package this install has. */
function applyPatches(out) {
  const patchDir = path.join(repoRoot, 'patches');
  if (!existsSync(patchDir)) return [];
  const wanted = readdirSync(patchDir).filter((file) => {
    const name = file.replace(/\+[^+]+\.patch$/, '').replaceAll('+', '/');
    return file.endsWith('.patch') && existsSync(path.join(out, 'node_modules', name, 'package.json'));
  });
  if (wanted.length === 0) return [];
  mkdirSync(path.join(out, 'patches'), { recursive: true });
  for (const file of wanted) copyFileSync(path.join(patchDir, file), path.join(out, 'patches', file));
  // patch-package comes from the build's own (dev) install; it is not a dependency of the image.
  const output = execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/patch-package/index.js'), '--error-on-fail'], {
    cwd: out,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (/error/i.test(output.replace(/finished with 0 error/i, ''))) throw new Error(`patch-package failed in ${out}:\n${output}`);
  rmSync(path.join(out, 'patches'), { recursive: true, force: true });
  return wanted;
}

/** Assembles `service`'s file set into `out` (a new folder, or an earlier file set, which is replaced); returns its size in bytes and what it holds. */
export function assembleFileSet(nameOrDir, out, { log = () => {} } = {}) {
  const service = serviceOf(nameOrDir);
  const dist = path.join(repoRoot, service.dir, 'dist');
  if (!existsSync(path.join(dist, 'main.js')) || !existsSync(path.join(dist, 'bundle.json'))) {
    throw new Error(`${service.dir}/dist/main.js is missing: run npm run build first`);
  }
  const bundle = JSON.parse(readFileSync(path.join(dist, 'bundle.json'), 'utf8'));
  // Emptied first, but only an empty folder or an earlier file set (never, say, the repository by a typo).
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(path.join(out, 'service.json'))) {
    throw new Error(`${out} is neither empty nor a file set made by this script: give a new folder`);
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });

  // 1. Production dependencies of this workspace: npm needs the lockfile and the manifest of every
  // workspace the lockfile knows to install one (a folder not in the lockfile is not installed by npm ci either).
  copyFileSync(path.join(repoRoot, 'package.json'), path.join(out, 'package.json'));
  copyFileSync(path.join(repoRoot, 'package-lock.json'), path.join(out, 'package-lock.json'));
  const workspaces = lockedWorkspaces();
  if (!workspaces.some(({ dir }) => dir === service.dir)) throw new Error(`${service.dir} is not a workspace in package-lock.json: run npm install`);
  for (const { dir, manifest } of workspaces) {
    mkdirSync(path.join(out, dir), { recursive: true });
    writeFileSync(path.join(out, dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  }
  log(`npm ci --omit=dev --workspace=${service.dir}`);
  // --ignore-scripts: the root postinstall (patch-package) is not installed here, so patches are applied below;
  // no production dependency needs an install script (@node-rs/argon2 ships its binary as a package).
  const npm = spawnSync('npm', ['ci', '--omit=dev', `--workspace=${service.dir}`, '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], {
    cwd: out,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (npm.status !== 0) throw new Error(`${service.name}: npm ci failed (exit ${npm.status}):\n${(npm.stderr || '').split('\n').slice(0, 12).join('\n')}`);
  const patched = applyPatches(out);

  // 2. Only what runs stays: this workspace's manifest and bundle, no workspace links, no other manifests.
  rmSync(path.join(out, 'node_modules/@analytica'), { recursive: true, force: true });
  for (const file of ['package.json', 'package-lock.json']) rmSync(path.join(out, file), { force: true });
  for (const { dir } of workspaces) {
    if (dir === service.dir) continue;
    rmSync(path.join(out, dir, 'package.json'), { force: true });
    // Remove the folders left empty (never one that holds the service's own folder).
    for (let d = dir; d !== '.' && !service.dir.startsWith(`${d}/`); d = path.dirname(d)) {
      const full = path.join(out, d);
      if (existsSync(full) && readdirSync(full).length === 0) rmSync(full, { recursive: true });
      else break;
    }
  }
  // The workspace's own package.json ("type": "module" makes dist/main.js an ES module).
  copyFileSync(path.join(repoRoot, service.dir, 'package.json'), path.join(out, service.dir, 'package.json'));
  cpSync(dist, path.join(out, service.dir, 'dist'), { recursive: true });

  // 3. Files read at run time, at their repository paths.
  const copied = [];
  for (const dir of bundle.workspaces) {
    if (existsSync(path.join(repoRoot, dir, 'data'))) copied.push(`${dir}/data`);
  }
  copied.push(...service.assets);
  for (const asset of copied) {
    const from = path.join(repoRoot, asset);
    if (!existsSync(from)) throw new Error(`${service.name}: asset ${asset} is missing`);
    mkdirSync(path.dirname(path.join(out, asset)), { recursive: true });
    cpSync(from, path.join(out, asset), { recursive: true });
  }

  // 4. Every package the bundle imports must be installed (a missing one fails only when first imported).
  const missing = bundle.externals.filter((name) => !existsSync(path.join(out, 'node_modules', name)) && !existsSync(path.join(out, service.dir, 'node_modules', name)));
  if (missing.length > 0)
    throw new Error(
      `${service.name}: the bundle imports packages its production install lacks (declare them in ${service.dir}/package.json or the package that uses them): ${missing.join(', ')}`,
    );

  writeFileSync(path.join(out, 'service.json'), `${JSON.stringify({ name: service.name, dir: service.dir, port: service.port }, null, 2)}\n`);
  copyFileSync(path.join(repoRoot, 'infra/docker/healthcheck.mjs'), path.join(out, 'healthcheck.mjs'));
  const bytes = sizeOf(out);
  return { service, bytes, assets: copied, patched };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(repoRoot, 'infra/docker/file-set.mjs')) {
  const [nameOrDir, out] = process.argv.slice(2);
  if (!nameOrDir || !out) {
    process.stderr.write('usage: node infra/docker/file-set.mjs <service|dir> <out-dir>\n');
    process.exit(64);
  }
  try {
    const { service, bytes, assets, patched } = assembleFileSet(nameOrDir, path.resolve(out), { log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(`${service.name}: ${megabytes(bytes)} in ${out} (assets: ${assets.join(', ') || 'none'}; patched: ${patched.join(', ') || 'none'})\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
