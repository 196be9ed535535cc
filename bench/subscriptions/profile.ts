// A CPU profile of one running process over exactly the measurement window, without restarting it
// with other flags: SIGUSR1 opens Node's inspector (127.0.0.1:9229), the bench starts V8's sampling
// profiler over the DevTools protocol, stops it at the end of the window and keeps the
// .cpuprofile (open it in Chrome DevTools or speedscope). Printed as a deviation when used: the
// profiler costs the gateway some CPU.
//
//   npx tsx bench/subscriptions/profile.ts FILE.cpuprofile     # summary of a saved profile
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { repoRoot } from './paths.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const INSPECTOR_PORT = 9229;

/** Opens the inspector of `pid` and starts profiling; `stop()` answers the profile. */
export async function startProfiling(pid: number): Promise<{ stop(): Promise<CpuProfile> }> {
  process.kill(pid, 'SIGUSR1');
  let target: string | undefined;
  const deadline = Date.now() + 10_000;
  while (!target && Date.now() < deadline) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
      target = list[0]?.webSocketDebuggerUrl;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (!target) throw new Error(`the inspector of process ${pid} did not open on port ${INSPECTOR_PORT}`);
  const ws = new WebSocket(target);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const n = ++id;
      pending.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: 500 });
  await call('Profiler.start');
  return {
    async stop() {
      const { profile } = (await call('Profiler.stop')) as { profile: CpuProfile };
      await call('Profiler.disable');
      ws.close();
      return profile;
    },
  };
}

/** What a frame belongs to: a package under node_modules, a file of the repository, or V8/Node itself. */
function owner(url: string, functionName: string): string {
  if (!url) return functionName ? `(${functionName})` : '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const nm = clean.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = clean.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (clean.startsWith('node:')) return clean;
  return path.relative(repoRoot, clean) || clean;
}

/**
 * Self time by function and by owner (package, file, or V8), as shares of the samples taken while
 * the thread was busy. Shares, not seconds: on a machine short of CPU the sampler's clock runs
 * while the process waits for a core, so the CPU time is the bench's /proc figure, not this.
 */
export function summariseProfile(profile: CpuProfile, top = 20): string {
  const byFunction = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let idle = 0;
  let samples = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits) continue;
    samples += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += hits;
      continue;
    }
    const o = owner(url, functionName);
    const name = `${functionName || '(anonymous)'} ${o}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byOwner.set(o, (byOwner.get(o) ?? 0) + hits);
  }
  const busy = samples - idle;
  // Inclusive: a sample counts for every function (and package) on its stack, once each.
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (!hits || node.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (let n: ProfileNode | undefined = node; n; n = parent.get(n.id)) {
      const { functionName, url, lineNumber } = n.callFrame;
      if (!url) continue;
      seen.add(`${functionName || '(anonymous)'} ${owner(url, functionName)}:${lineNumber + 1}`);
    }
    for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + hits);
  }
  void byId;
  const lines: string[] = [];
  lines.push(`${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s profiled, ${samples} samples, ${busy} of them busy`);
  const table = (title: string, map: Map<string, number>) => {
    lines.push('', `| ${title} | share of busy samples |`, '|---|---|');
    for (const [name, hits] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      lines.push(`| ${name.replace(/\|/g, '\\|')} | ${((hits / Math.max(busy, 1)) * 100).toFixed(1)} % |`);
    }
  };
  table('self time by package / file', byOwner);
  table('self time by function', byFunction);
  // The widest frames below the event loop's own: where whole requests' time goes.
  table('inclusive time by function (its callees included)', new Map([...inclusive].filter(([, hits]) => hits < busy * 0.95)));
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const file = process.argv[2];
  if (!file) {
    console.error('npx tsx bench/subscriptions/profile.ts FILE.cpuprofile');
    process.exit(64);
  }
  console.log(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(process.argv[3] ?? 25)));
}
