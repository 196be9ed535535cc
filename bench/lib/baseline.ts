// The project at another commit, checked out beside this one so that a benchmark can run both in
// the same run, interleaved: on a machine whose speed drifts by half within the hour, only an A/B
// comparison in one run says whether a change helped (bench/gateway/README.md, run.ts --baseline).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';

export interface Baseline {
  /** The commit checked out (short hash) and the ref it was asked for. */
  commit: string;
  ref: string;
  /** Root of the checkout: run its entry points from here. */
  root: string;
  remove(): void;
}

/**
 * Checks `ref` out into `dir` as a detached git worktree that uses this checkout's installed
 * packages: every third-party package links to this checkout's node_modules, while the workspace
 * packages (`@analytica/*`, relative links) resolve inside the worktree, so that the baseline runs
 * its own gateway, subgraphs and shared packages. A package the baseline needs and this checkout
 * did not install makes its process fail at start, which the benchmark reports.
 */
export async function checkOutBaseline(repoRoot: string, ref: string, dir: string): Promise<Baseline> {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  const commit = git('rev-parse', '--short', `${ref}^{commit}`);
  const root = path.join(dir, `baseline-${commit}`);
  git('worktree', 'add', '--detach', root, commit);
  const modules = path.join(repoRoot, 'node_modules');
  await mkdir(path.join(root, 'node_modules'));
  for (const entry of await readdir(modules)) {
    if (entry === '@analytica' || entry === '.bin') continue;
    await symlink(path.join(modules, entry), path.join(root, 'node_modules', entry));
  }
  // npm's links to the workspaces are relative: copied as they are, they point into the worktree.
  // Packages npm installed inside a workspace (a version apart from the hoisted one) are linked too.
  const workspaces = path.join(modules, '@analytica');
  await mkdir(path.join(root, 'node_modules', '@analytica'));
  for (const entry of await readdir(workspaces)) {
    const link = await readlink(path.join(workspaces, entry));
    await symlink(link, path.join(root, 'node_modules', '@analytica', entry));
    const workspace = path.resolve(workspaces, link);
    const nested = path.join(workspace, 'node_modules');
    const target = path.join(root, path.relative(repoRoot, workspace), 'node_modules');
    if (existsSync(nested) && existsSync(path.dirname(target)) && !existsSync(target)) await symlink(nested, target);
  }
  return {
    commit,
    ref,
    root,
    remove: () => void git('worktree', 'remove', '--force', root),
  };
}
