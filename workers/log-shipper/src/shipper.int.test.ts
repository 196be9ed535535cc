import { appendFile, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openLogStore, type LogStore } from '@analytica/logstore';
import { createTcpProxy, dropSchema, eventually, services, uniqueName } from '@analytica/testing';
import { parseLogShipperEnv, startLogShipper } from './index.js';

const schema = uniqueName('logs');
let dir: string;
let store: LogStore;
let running: Awaited<ReturnType<typeof startLogShipper>>[] = [];

const start = (overrides: Record<string, string> = {}) =>
  startLogShipper(
    parseLogShipperEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      LOG_SHIPPER_DIR: dir,
      LOG_STORE_URL: services.databaseUrl,
      LOG_STORE_SCHEMA: schema,
      LOG_SHIPPER_POLL_MS: '50',
      LOG_SHIPPER_RETRY_MAX_MS: '300',
      ...overrides,
    }),
  ).then((shipper) => {
    running.push(shipper);
    return shipper;
  });

/** A line as packages/logger writes it. */
const line = (service: string, msg: string, extra: Record<string, unknown> = {}) =>
  `${JSON.stringify({ level: 'info', time: new Date().toISOString(), service, msg, ...extra })}\n`;

/** Every stored line whose message starts with `prefix`, oldest first. */
async function stored(prefix: string) {
  const { entries } = await store.query({ first: 500 });
  return entries.filter((e) => e.message.startsWith(prefix)).reverse();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'log-shipper-'));
  store = openLogStore({ url: services.databaseUrl, schema });
});

afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

afterAll(async () => {
  await store.close();
  await dropSchema(schema);
  await rm(dir, { recursive: true, force: true });
});

describe('log shipper', () => {
  it('stores each line of every file with its service, level, message, request and trace ids and the whole line', async () => {
    await start();
    await appendFile(path.join(dir, 'gateway.log'), line('gateway', 'a1 request', { requestId: 'req-a1', traceId: 'f'.repeat(32), status: 200 }));
    await appendFile(path.join(dir, 'user.log'), line('user', 'a1 internal error', { level: 'error', requestId: 'req-a1' }));
    // What a crash prints on stderr is kept too, as the file's service's WARN line.
    await appendFile(path.join(dir, 'budget.log'), 'a1 TypeError: boom\n');
    // Half a line: its writer is still in the middle of it, so it waits for its newline.
    await appendFile(path.join(dir, 'user.log'), line('user', 'a1 half').slice(0, 30));

    const lines = await eventually(async () => {
      const found = await stored('a1');
      return found.length >= 3 ? found : undefined;
    });
    expect(lines.map((l) => [l.service, l.level, l.message, l.requestId, l.traceId])).toEqual(
      expect.arrayContaining([
        ['gateway', 'info', 'a1 request', 'req-a1', 'f'.repeat(32)],
        ['user', 'error', 'a1 internal error', 'req-a1', null],
        ['budget', 'warn', 'a1 TypeError: boom', null, null],
      ]),
    );
    expect(JSON.parse(lines.find((l) => l.service === 'gateway')!.json)).toMatchObject({ status: 200, msg: 'a1 request' });
    expect(lines).toHaveLength(3);

    await appendFile(path.join(dir, 'user.log'), `${line('user', 'a1 half').slice(30)}`);
    await eventually(async () => ((await stored('a1 half')).length === 1 ? true : undefined));
    const byRequest = await store.query({ requestId: 'req-a1', first: 10 });
    expect(byRequest.entries.map((e) => e.service).sort()).toEqual(['gateway', 'user']);
  });

  it('stores quotes, backslashes, line breaks, tabs, any script and an escaped NUL as written (the NUL dropped), and goes on after them', async () => {
    await start();
    // JSON.stringify writes the quote, the backslash, the tab and the line breaks escaped, and the NUL
    // as \u0000; the message holds them as characters, which the store's COPY must escape in turn.
    const message = 'q1 "quoted" \\ back\\slash, Zürich, 東京, 💶, tab\there, newline\nhere, cr\rhere, literal \\N, nul\0gone';
    await appendFile(path.join(dir, 'gateway.log'), line('gateway', message, { requestId: 'req-q1' }));
    await appendFile(path.join(dir, 'gateway.log'), line('gateway', 'q1 next'));
    const lines = await eventually(async () => {
      const found = await stored('q1');
      return found.length >= 2 ? found : undefined;
    });
    const odd = lines.find((l) => l.message.startsWith('q1 "quoted"'))!;
    expect(odd.message).toBe(message.replace('\0', ''));
    expect(odd.requestId).toBe('req-q1');
    // The whole line as written, escapes and all.
    expect(JSON.parse(odd.json).msg).toBe(message);
    expect(lines.map((l) => l.message)).toContain('q1 next');
  });

  it('goes on after a restart where it stopped: no line lost, none stored twice', async () => {
    const first = await start();
    for (let i = 0; i < 5; i++) await appendFile(path.join(dir, 'payment.log'), line('payment', `b2 before ${i}`));
    await eventually(async () => ((await stored('b2 before')).length === 5 ? true : undefined));
    await first.stop();
    running = [];
    // Written while no shipper runs.
    for (let i = 0; i < 5; i++) await appendFile(path.join(dir, 'payment.log'), line('payment', `b2 while down ${i}`));
    await start();
    for (let i = 0; i < 5; i++) await appendFile(path.join(dir, 'payment.log'), line('payment', `b2 after ${i}`));
    const all = await eventually(async () => {
      const found = await stored('b2');
      return found.length >= 15 ? found : undefined;
    });
    // A moment more, in case a repeat were on its way.
    await new Promise((r) => setTimeout(r, 300));
    const messages = (await stored('b2')).map((l) => l.message);
    expect(messages).toHaveLength(15);
    expect(new Set(messages).size).toBe(15);
    expect(all.map((l) => l.message)).toEqual(expect.arrayContaining(['b2 while down 0', 'b2 while down 4', 'b2 after 4']));
  });

  it('follows a rotated file: reads the old one to its end, then the new one from its start', async () => {
    await start();
    const file = path.join(dir, 'insight.log');
    // The service keeps writing to the file it opened (its handle) after the rename, as a process does.
    const handle = await open(file, 'a');
    await handle.write(line('insight', 'c3 one'));
    await eventually(async () => ((await stored('c3 one')).length === 1 ? true : undefined));
    await rename(file, `${file}.1`);
    await handle.write(line('insight', 'c3 two, after the rename'));
    await handle.close();
    await writeFile(file, line('insight', 'c3 three, in the new file'));
    const found = await eventually(async () => {
      const lines = await stored('c3');
      return lines.length >= 3 ? lines : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await stored('c3')).map((l) => l.message)).toEqual(['c3 one', 'c3 two, after the rename', 'c3 three, in the new file']);
    expect(found).toHaveLength(3);
  });

  it('keeps lines in the files while the store is down and stores each once it returns; the services never wait', async () => {
    const proxy = await createTcpProxy({ host: new URL(services.databaseUrl).hostname, port: Number(new URL(services.databaseUrl).port || 5432) });
    const url = new URL(services.databaseUrl);
    url.host = `127.0.0.1:${proxy.port}`;
    try {
      const shipper = await start({ LOG_STORE_URL: url.toString() });
      await appendFile(path.join(dir, 'news.log'), line('news', 'd4 before the outage'));
      await eventually(async () => ((await stored('d4 before')).length === 1 ? true : undefined));
      proxy.cut();
      // Writing a log line is appending to a file: it takes no longer with the store away.
      const started = performance.now();
      for (let i = 0; i < 50; i++) await appendFile(path.join(dir, 'news.log'), line('news', `d4 during ${i}`));
      expect(performance.now() - started).toBeLessThan(2000);
      await eventually(async () => ((await fetch(`${shipper.url}/ready`)).status === 503 ? true : undefined), 10_000);
      // The next attempt to write finds the store away too.
      const metrics = await eventually(async () => {
        const text = await (await fetch(`${shipper.metricsUrl}/metrics`)).text();
        return /log_shipper_store_up\{[^}]*\} 0/.test(text) ? text : undefined;
      });
      expect(metrics).toMatch(/log_shipper_batches_total\{[^}]*outcome="failed"[^}]*\} [1-9]/);
      proxy.restore();
      const during = await eventually(async () => {
        const lines = await stored('d4 during');
        return lines.length >= 50 ? lines : undefined;
      }, 15_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(new Set((await stored('d4 during')).map((l) => l.message)).size).toBe(50);
      expect(during).toHaveLength(50);
      expect((await fetch(`${shipper.url}/ready`)).status).toBe(200);
    } finally {
      await Promise.all(running.map((s) => s.stop()));
      running = [];
      await proxy.close();
    }
  });

  it('drops the day partitions older than LOG_RETENTION_DAYS and stores no line older than that', async () => {
    const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000);
    const row = (time: Date, msg: string) => ({ time, service: 'user', source: 'user', level: 30, msg, requestId: null, traceId: null, line: '{}' });
    await store.migrate();
    await store.write([row(daysAgo(10), 'e5 ten'), row(daysAgo(8), 'e5 eight'), row(daysAgo(6), 'e5 six')], []);
    const day = (time: Date) => time.toISOString().slice(0, 10);
    expect(await store.days()).toEqual(expect.arrayContaining([day(daysAgo(10)), day(daysAgo(8)), day(daysAgo(6))]));

    // Retention runs when the shipper starts (and every hour after).
    await start({ LOG_RETENTION_DAYS: '7' });
    await appendFile(path.join(dir, 'market.log'), `${JSON.stringify({ level: 'info', time: daysAgo(9).toISOString(), service: 'market', msg: 'e5 too old' })}\n`);
    await appendFile(path.join(dir, 'market.log'), line('market', 'e5 today'));
    await eventually(async () => ((await stored('e5 today')).length === 1 ? true : undefined));
    const days = await eventually(async () => {
      const now = await store.days();
      return now.includes(day(daysAgo(10))) ? undefined : now;
    });
    expect(days).not.toContain(day(daysAgo(8)));
    expect(days).toContain(day(daysAgo(6)));
    expect((await stored('e5')).map((l) => l.message).sort()).toEqual(['e5 six', 'e5 today']);
  });
});
