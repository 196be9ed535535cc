// The two browser apps the launchers serve: the admin console (console/, served by the gateway at
// /console/) and the reference web app (examples/web-app/, served here on its own origin, as a
// frontend team's app would be). Both are built with Vite on start, once per change of their inputs,
// so that nobody has to remember a build step and an edited app is never served stale.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import express, { type Response } from 'express';
import { repoRoot } from './processes.js';

export interface ViteApp {
  /** For messages: "the admin console". */
  label: string;
  dir: string;
  /** The packages it bundles: a new version of one means a new build. */
  bundles: string[];
}

const REACT_APP = ['react', 'react-dom', '@apollo/client', 'graphql', 'rxjs', 'vite', '@vitejs/plugin-react'];
export const ADMIN_CONSOLE: ViteApp = { label: 'the admin console', dir: path.join(repoRoot, 'console'), bundles: REACT_APP };
export const WEB_APP: ViteApp = { label: 'the reference web app', dir: path.join(repoRoot, 'examples/web-app'), bundles: [...REACT_APP, 'graphql-ws'] };

/** Names the inputs a built app was made from, so a stale one is rebuilt. */
const STAMP = '.inputs';
export const distOf = (app: ViteApp) => path.join(app.dir, 'dist');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(file) : [file];
  });
}

/** The installed version of a package, as Node would find it from the app (some packages export no package.json). */
function versionOf(app: ViteApp, name: string): string {
  for (let dir = app.dir; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'node_modules', name, 'package.json');
    if (existsSync(manifest)) return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    if (path.dirname(dir) === dir) return 'missing';
  }
}

/** The app's sources, its build settings and the versions of what it bundles. */
export function inputsKey(app: ViteApp): string {
  const hash = createHash('sha256');
  for (const name of app.bundles) hash.update(`${name}@${versionOf(app, name)}\n`);
  const files = [...filesUnder(path.join(app.dir, 'src')), ...['index.html', 'vite.config.ts', 'package.json'].map((f) => path.join(app.dir, f))].sort();
  for (const file of files) hash.update(`${path.relative(app.dir, file)}\n`).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds the app into its dist folder unless it is already built from the same inputs (then this
 * takes a few milliseconds). A build runs in a folder of its own and is renamed into place, so a
 * second launcher building at the same time does no harm.
 */
export async function buildViteApp(app: ViteApp, options: { log?: (line: string) => void } = {}): Promise<{ dir: string; built: boolean }> {
  const dist = distOf(app);
  const key = inputsKey(app);
  const stamp = path.join(dist, STAMP);
  if (existsSync(stamp) && (await readFile(stamp, 'utf8')) === key && existsSync(path.join(dist, 'index.html'))) return { dir: dist, built: false };
  options.log?.(`Building ${app.label} (vite build, once per change of ${path.relative(repoRoot, app.dir)}/)...`);
  // Beside the other tools' caches (ignored by git), on the same disk as dist/ so that it can be renamed into place.
  const temporary = path.join(repoRoot, 'node_modules/.cache/analytica-apps', `${path.basename(app.dir)}-${randomBytes(4).toString('hex')}`);
  try {
    const { build } = await import('vite');
    await build({ root: app.dir, configFile: path.join(app.dir, 'vite.config.ts'), logLevel: 'warn', build: { outDir: temporary, emptyOutDir: true } });
    await writeFile(path.join(temporary, STAMP), key);
    await rm(dist, { recursive: true, force: true });
    await rename(temporary, dist).catch(async (error: unknown) => {
      // Another launcher got there first: keep its build if it is of the same inputs.
      if (!existsSync(stamp) || (await readFile(stamp, 'utf8')) !== key) throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return { dir: dist, built: true };
}

export interface WebAppServer {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Serves the built reference web app on its own origin, as a static host (a CDN, nginx) would:
 * its files, `/config.json` telling it where the API is, and a Content-Security-Policy that lets it
 * load nothing but itself and talk to nothing but the gateway.
 */
export async function serveWebApp(options: { dir: string; port: number; host?: string; apiUrl: string }): Promise<WebAppServer> {
  const api = new URL(options.apiUrl);
  const wsUrl = `${api.protocol === 'https:' ? 'wss:' : 'ws:'}//${api.host}${api.pathname}`;
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ${api.origin} ${new URL(wsUrl).origin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const secure = (res: Response) => {
    res.setHeader('content-security-policy', csp);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
  };
  const app = express();
  app.disable('x-powered-by');
  app.get('/config.json', (_req, res) => {
    secure(res);
    res.setHeader('cache-control', 'no-store');
    res.json({ apiUrl: api.href, wsUrl });
  });
  app.use('/assets', express.static(path.join(options.dir, 'assets'), { index: false, immutable: true, maxAge: '365d', setHeaders: secure }));
  app.get('/', (_req, res) => {
    secure(res);
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(path.join(options.dir, 'index.html'));
  });
  app.use((_req, res) => {
    secure(res);
    res.status(404).type('text/plain').send('Not found');
  });
  const host = options.host ?? '127.0.0.1';
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, host, resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
