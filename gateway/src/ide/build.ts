import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = path.join(here, 'client');

/**
 * The browser entry points: the page's script and Monaco's three workers (see client/workers.js).
 * Resolved only when a bundle is built, so that a gateway with the IDE off never looks for them.
 */
const entries = () => ({
  ide: path.join(clientDir, 'ide.js'),
  'editor.worker': require.resolve('monaco-editor/esm/vs/editor/editor.worker.js'),
  'json.worker': require.resolve('monaco-editor/esm/vs/language/json/json.worker.js'),
  'graphql.worker': require.resolve('monaco-graphql/esm/graphql.worker.js'),
});

/** Where built bundles are kept: one folder per version of the inputs, beside the other tools' caches. */
export const IDE_CACHE_DIR = path.resolve(here, '../../../node_modules/.cache/analytica-ide');

/** Names what a bundle is made of: the client's files and the versions of the packages bundled. */
function inputsKey(): string {
  const hash = createHash('sha256');
  for (const name of ['graphiql', '@graphiql/react', 'monaco-editor', 'monaco-graphql', 'react', 'react-dom', 'graphql', 'graphql-ws', 'esbuild']) {
    hash.update(`${name}@${(require(`${name}/package.json`) as { version: string }).version}\n`);
  }
  for (const file of ['ide.js', 'workers.js', 'ide.css']) hash.update(readFileSync(path.join(clientDir, file)));
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles GraphiQL (from node_modules) with the page's script into `<cache>/<key>/`: ide.js,
 * ide.css, the workers and the fonts they use, all served by the gateway under /ide/. Built once
 * per version of the inputs (a few seconds), then reused; a build in progress elsewhere is
 * harmless (each writes its own folder, then renames it into place).
 */
export async function buildIdeAssets(cacheDir = IDE_CACHE_DIR): Promise<string> {
  const outdir = path.join(cacheDir, inputsKey());
  if (existsSync(path.join(outdir, 'ide.js'))) return outdir;
  const temporary = `${outdir}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(temporary, { recursive: true });
  try {
    const { build } = await import('esbuild');
    await build({
      entryPoints: entries(),
      outdir: temporary,
      bundle: true,
      // Classic scripts: the page's script and the (classic) workers Monaco starts.
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'dataurl', '.png': 'dataurl' },
      assetNames: '[name]-[hash]',
      publicPath: '/ide/',
    });
    await rename(temporary, outdir).catch(async (error: unknown) => {
      // Another build got there first: keep its bundle.
      if (!existsSync(path.join(outdir, 'ide.js'))) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return outdir;
}

/** The files of a built bundle, by name. */
export async function assetNames(outdir: string): Promise<Set<string>> {
  return new Set(await readdir(outdir));
}
