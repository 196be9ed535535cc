// SMTP down under the notifications worker (issue 20). The worker reaches the machine's mail
// catcher through a proxy in this process; killing the proxy resets its connection and refuses
// new ones (a mail server that is down), resuming it brings the server back.
//
// Expected: a registration through the gateway while SMTP is down still succeeds (the welcome
// email is a request in the outbox, not part of the answer); the worker's attempts fail as
// refusals (nothing was handed over), so each email is retried through NOTIFICATION_RETRY_DELAYS_MS
// (here 500, 1000, 2000, 4000, 8000 ms, longer in all than the outage; after the last tier an email
// would wait in the dead-letter topic). Once SMTP is back, each email arrives exactly once, within
// the next retry tier's delay, and stays at one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { eventually, freePort, services } from '@analytica/testing';
import { entryOf, spawnService, stopProcess, waitUntilReady, type ServiceProcess } from '../../dev/src/processes.js';
import { startFaultProxy } from '@analytica/testing/fault-proxy';
import { sleep, startFaultStack, type FaultStack } from './stack.js';

const SMTP_URL = process.env.TEST_SMTP_URL ?? 'smtp://127.0.0.1:1025';
const MAILBOX_URL = process.env.TEST_MAILBOX_URL ?? 'http://127.0.0.1:8025';
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const OUTAGE_MS = 6000;

let stack: FaultStack;
let proxy: Awaited<ReturnType<typeof startFaultProxy>>;
let worker: ServiceProcess;
let db: pg.Pool;

async function delivered(address: string): Promise<number> {
  const response = await fetch(`${MAILBOX_URL}/messages?to=${encodeURIComponent(address)}`);
  const { messages } = (await response.json()) as { messages: { to: string[] }[] };
  return messages.filter((m) => m.to.includes(address)).length;
}

async function failedAttempts(): Promise<number> {
  const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
  return [...text.matchAll(/^emails_total\{[^}]*outcome="failed"[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

beforeAll(async () => {
  const target = new URL(SMTP_URL);
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 25) });
  stack = await startFaultStack('faults_smtp');
  worker = spawnService(
    'notifications-worker',
    entryOf('notifications-worker'),
    await freePort(),
    {
      ...stack.shared,
      METRICS_PORT: String(await freePort()),
      DATABASE_SCHEMA: `${stack.run}_notifications`,
      SMTP_URL: `smtp://127.0.0.1:${proxy.port}`,
      SMTP_TIMEOUT_MS: '1000',
      UNSUBSCRIBE_SECRET: 'faults-unsubscribe-secret-0123456789abcdef',
      NOTIFICATION_RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
      LOG_LEVEL: 'info',
    },
    stack.logDir,
  );
  await waitUntilReady(worker, 90_000);
  db = new pg.Pool({ connectionString: services.databaseUrl, options: `-c search_path=${stack.run}_notifications`, max: 2 });
}, 180_000);

afterAll(async () => {
  proxy?.resume();
  if (worker) await stopProcess(worker);
  await stack?.stop();
  await db?.query(`drop schema if exists "${stack.run}_notifications" cascade`);
  await db?.end();
  await proxy?.close();
});

describe('SMTP down', () => {
  it('emails are retried while it is down and each is sent exactly once after it returns', async () => {
    // The pipeline works: a welcome email arrives while SMTP is up.
    const first = await stack.register('before');
    await eventually(async () => ((await delivered(first.email)) === 1 ? true : undefined), 30_000, 200);

    proxy.kill();
    const during = await Promise.all(['down-1', 'down-2', 'down-3'].map((label) => stack.register(label)));
    const addresses = during.map((u) => u.email);
    // The worker tries while SMTP is down: attempts fail and nothing arrives.
    await eventually(async () => ((await failedAttempts()) >= addresses.length ? true : undefined), 20_000, 200);
    await sleep(OUTAGE_MS);
    const failed = await failedAttempts();
    expect(failed).toBeGreaterThanOrEqual(2 * addresses.length);
    expect(await Promise.all(addresses.map(delivered))).toEqual([0, 0, 0]);

    proxy.resume();
    const back = performance.now();
    await eventually(async () => ((await Promise.all(addresses.map(delivered))).every((n) => n >= 1) ? true : undefined), 20_000, 100);
    const recoveryMs = Math.round(performance.now() - back);
    // Any retry still queued must find the email sent and not send it again.
    await sleep(3000);
    const counts = await Promise.all(addresses.map(delivered));
    const rows = await db.query<{ recipient: string; state: string }>(`select recipient, state from sent_emails where recipient = any($1) order by recipient`, [addresses]);
    console.log(
      `smtp down for ~${OUTAGE_MS / 1000} s: ${failed} failed attempts for ${addresses.length} emails; all delivered ${recoveryMs} ms after SMTP returned, ${counts.join('/')} copies each`,
    );

    expect(counts).toEqual([1, 1, 1]);
    expect(rows.rows).toEqual([...addresses].sort().map((recipient) => ({ recipient, state: 'SENT' })));
    expect(await delivered(first.email)).toBe(1);
    // Within the tier that was waiting when SMTP returned: at most the longest delay, plus a busy machine.
    expect(recoveryMs).toBeLessThan(RETRY_DELAYS_MS.at(-1)! + 2000);
  }, 90_000);
});
