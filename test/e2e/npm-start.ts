// `npm start` as a user runs it, for the end-to-end tests that drive the embedded system: in its own
// process group on a fresh data folder, with every port moved by an offset under which all are free.
import { spawn, type ChildProcess } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SERVICE_PORTS } from '../../dev/src/embedded-env.js';
import { repoRoot } from '../../dev/src/processes.js';

/** The ports npm start takes besides the services': the gateway, mail, PostgreSQL, DynamoDB and the web app. */
const OWN_PORTS = { gateway: 4000, mail: 4025, smtp: 4026, postgres: 4040, dynamodb: 4041, webApp: 4050 };

/**
 * A port offset under which every port of the embedded mode is free now: the services' (moved by
 * EMBEDDED_PORT_OFFSET), just above them the launcher's own, and each service's metrics listener
 * (its port + 5000).
 */
async function freeOffset(): Promise<number> {
  const free = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    // Every port, metrics listeners included, below the usual ephemeral range (32768 and up), where
    // outgoing connections take theirs: 4050 + 5000 + 23,600 is 32,650.
    const offset = 10_000 + Math.floor(Math.random() * 137) * 100;
    const ports = [...Object.values(SERVICE_PORTS), ...Object.values(OWN_PORTS)].flatMap((port) => [port + offset, port + offset + 5000]);
    const checks = await Promise.all(ports.map(free));
    if (checks.every(Boolean)) return offset;
  }
  throw new Error('no free range of ports for the embedded services');
}

export interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export interface EmbeddedRun {
  /** Where the run keeps its data folder (and anything else a test writes for it). */
  dataRoot: string;
  dataDir: string;
  env: Record<string, string>;
  gatewayUrl: string;
  webAppUrl: string;
  mailUrl: string;
  /**
   * What `npm start` runs (its script from package.json, without npm and sh around it, which report
   * Ctrl-C as their own death by SIGINT), in its own process group as a terminal runs it: Ctrl-C
   * reaches the whole group, the embedded PostgreSQL included.
   */
  spawnStart: (extraEnv?: Record<string, string>) => Promise<ChildProcess>;
  /** Starts it and waits for the banner. */
  start: () => Promise<Running>;
  /** Ctrl-C, then the exit code. */
  stop: (run: Running) => Promise<number | null>;
  /** Removes the data folder (and, as root, the cluster linked from it). */
  cleanUp: () => Promise<void>;
}

/** A run of npm start on a fresh data folder (made by mkdtemp, so mode 700) and free ports. */
export async function embeddedRun(extraEnv: Record<string, string> = {}): Promise<EmbeddedRun> {
  const dataRoot = await mkdtemp(path.join(os.tmpdir(), 'analytica-embedded-e2e-'));
  const dataDir = path.join(dataRoot, 'data');
  const offset = await freeOffset();
  const ports = Object.fromEntries(Object.entries(OWN_PORTS).map(([name, port]) => [name, port + offset])) as typeof OWN_PORTS;
  const env: Record<string, string> = {
    ANALYTICA_DATA_DIR: dataDir,
    PORT: String(ports.gateway),
    EMBEDDED_PORT_OFFSET: String(offset),
    EMBEDDED_POSTGRES_PORT: String(ports.postgres),
    EMBEDDED_DYNAMODB_PORT: String(ports.dynamodb),
    EMBEDDED_SMTP_PORT: String(ports.smtp),
    EMBEDDED_MAIL_PORT: String(ports.mail),
    EMBEDDED_WEB_APP_PORT: String(ports.webApp),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const spawnStart = async (more: Record<string, string> = {}) => {
    const script = (JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const [command, ...args] = script.split(' ');
    return spawn(command!, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env, ...more, PATH: `${path.join(repoRoot, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}` },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  };
  const start = async (): Promise<Running> => {
    const child = await spawnStart();
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 170_000;
    while (!/Press Ctrl-C to stop/.test(output)) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`npm start printed no banner in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { child, output: () => output, exited };
  };
  const stop = async (run: Running) => {
    process.kill(-run.child.pid!, 'SIGINT');
    const timer = setTimeout(() => process.kill(-run.child.pid!, 'SIGKILL'), 60_000);
    const code = await run.exited;
    clearTimeout(timer);
    return code;
  };
  const cleanUp = async () => {
    // As root the cluster lives outside the data folder, linked from it: it goes too.
    const link = path.join(dataDir, 'postgres');
    if ((await lstat(link).catch(() => undefined))?.isSymbolicLink()) await rm(path.dirname(await readlink(link)), { recursive: true, force: true });
    await rm(dataRoot, { recursive: true, force: true });
  };
  return {
    dataRoot,
    dataDir,
    env,
    gatewayUrl: `http://127.0.0.1:${ports.gateway}/graphql`,
    webAppUrl: `http://127.0.0.1:${ports.webApp}`,
    mailUrl: `http://127.0.0.1:${ports.mail}`,
    spawnStart,
    start,
    stop,
    cleanUp,
  };
}
