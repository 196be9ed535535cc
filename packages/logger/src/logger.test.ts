import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRequestId } from '@analytica/errors';
import { createLogger, stopTeeingLogs, teeLogsTo } from './index.js';

// What the tracing SDK registers (packages/telemetry): the active context follows async calls.
class AsyncContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active = () => this.storage.getStore() ?? ROOT_CONTEXT;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable = () => this;
  disable = () => this;
}

let dir: string;
const file = () => path.join(dir, 'lines.log');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'logger-'));
  context.setGlobalContextManager(new AsyncContextManager());
});

afterAll(async () => {
  context.disable();
  await rm(dir, { recursive: true, force: true });
});

/** The lines a logger made after teeLogsTo wrote, parsed. */
async function linesOf(write: (log: ReturnType<typeof createLogger>) => void): Promise<Record<string, unknown>[]> {
  teeLogsTo(file());
  const log = createLogger('budget', 'info');
  write(log);
  await stopTeeingLogs();
  const text = await readFile(file(), 'utf8');
  await rm(file());
  return text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('createLogger', () => {
  it("puts the request id on every line logged while a request is served, and keeps a line's own", async () => {
    const lines = await linesOf((log) => {
      log.info('outside');
      withRequestId('req-7', () => {
        log.info('inside');
        log.child({ requestId: 'req-7' }).info('child with its binding');
        log.info({ requestId: 'its-own' }, 'own');
      });
    });
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([
      ['outside', undefined],
      ['inside', 'req-7'],
      ['child with its binding', 'req-7'],
      ['own', 'its-own'],
    ]);
    expect(lines.every((l) => l.service === 'budget' && l.level === 'info')).toBe(true);
  });

  it('writes the request id key only once on a child that binds it', async () => {
    teeLogsTo(file());
    withRequestId('req-8', () => createLogger('budget', 'info').child({ requestId: 'req-8' }).info('child'));
    await stopTeeingLogs();
    const text = await readFile(file(), 'utf8');
    await rm(file());
    expect(text.match(/"requestId"/g)).toHaveLength(1);
  });

  it("puts the active span's trace id on the line when tracing is on, and none otherwise", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const lines = await linesOf((log) => {
      log.info('no span');
      context.with(trace.setSpanContext(context.active(), { traceId, spanId: '00f067aa0ba902b7', traceFlags: 1 }), () => log.info('in a span'));
    });
    expect(lines.map((l) => [l.msg, l.traceId])).toEqual([
      ['no span', undefined],
      ['in a span', traceId],
    ]);
  });
});

describe("Node's own warnings", () => {
  it('are JSON lines of the service log, not plain text on stderr', async () => {
    const entry = new URL('./index.ts', import.meta.url).pathname;
    const script = [
      `import { createLogger, logProcessWarnings } from ${JSON.stringify(entry)};`,
      `logProcessWarnings(createLogger('warner'));`,
      `process.emitWarning('The SDK will need node >=22 soon.', { type: 'NodeVersionSupportWarning', code: 'SDK001' });`,
      `setTimeout(() => {}, 50);`,
    ].join('\n');
    const { spawnSync } = await import('node:child_process');
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        service: 'warner',
        source: 'node',
        msg: 'The SDK will need node >=22 soon.',
        warning: { name: 'NodeVersionSupportWarning', code: 'SDK001' },
      }),
    );
  });
});
