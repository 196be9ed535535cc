import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const consoleDir = path.dirname(fileURLToPath(import.meta.url));

/** Where `vite build` puts the console; the gateway serves it with GATEWAY_CONSOLE_DIR. */
export const CONSOLE_DIST = path.join(consoleDir, 'dist');
/** Names the inputs a built console was made from, so a stale one is rebuilt. */
const STAMP = '.inputs';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(file) : [file];
  });
}

/** The installed version of a package, as Node would find it from the console (some packages export no package.json). */
function versionOf(name: string): string {
  for (let dir = consoleDir; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return 'missing';
  }
}

/** The console's sources, its build settings and the versions of what it bundles. */
export function consoleInputsKey(): string {
  const hash = createHash('sha256');
  for (const name of ['react', 'react-dom', '@apollo/client', 'graphql', 'rxjs', 'vite', '@vitejs/plugin-react']) {
    hash.update(`${name}@${versionOf(name)}\n`);
  }
  const files = [...filesUnder(path.join(consoleDir, 'src')), ...['index.html', 'vite.config.ts', 'build.ts', 'package.json'].map((f) => path.join(consoleDir, f))].sort();
  for (const file of files) hash.update(`${path.relative(consoleDir, file)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds the console into console/dist unless it is already built from the same inputs (then this
 * takes a few milliseconds). `npm start` and stack mode call it before the gateway starts, so that
 * nobody has to remember a build step and an edited console is never served stale. A build runs in
 * a folder of its own and is renamed into place, so a second launcher building at the same time
 * does no harm.
 */
export async function buildConsole(options: { log?: (line: string) => void } = {}): Promise<{ dir: string; built: boolean }> {
  const key = consoleInputsKey();
  const stamp = path.join(CONSOLE_DIST, STAMP);
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === key && existsSync(path.join(CONSOLE_DIST, 'index.html'))) return { dir: CONSOLE_DIST, built: false };
  options.log?.('Building the admin console (vite build, once per change of the console)...');
  // Beside the other tools' caches (ignored by git), on the same disk as dist/ so that it can be renamed into place.
  const temporary = path.join(consoleDir, '../node_modules/.cache/analytica-console', randomBytes(4).toString('hex'));
  try {
    const { build } = await import('vite');
    await build({
      root: consoleDir,
      configFile: path.join(consoleDir, 'vite.config.ts'),
      logLevel: 'warn',
      build: { outDir: temporary, emptyOutDir: true },
    });
    await writeFile(path.join(temporary, STAMP), key);
    await rm(CONSOLE_DIST, { recursive: true, force: true });
    await rename(temporary, CONSOLE_DIST).catch(async (error: unknown) => {
      // Another launcher got there first: keep its build if it is of the same inputs.
      if (!existsSync(stamp) || (await readFile(stamp, 'utf8')) !== key) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return { dir: CONSOLE_DIST, built: true };
}
