// A client that never reads must not raise the other clients' latency or the gateway's memory
// beyond a stated bound. 1,000 normal clients are measured without, then with, one such client,
// on the stack as shipped: the gateway's own SUBSCRIPTION_MAX_BUFFERED_BYTES (1 MiB) and
// SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS (10 s) defaults, nothing overridden.
import type { SlowEvent } from './ipc.js';
import { delta, metric, rssMb } from './probe.js';
import { fixed, printTable } from './report.js';
import { QUERY, finishRun, log, measure, readMetricsOrEmpty, sleep, startRun, type Bench, type Measurement, type Run } from './run.js';

/** The gateway's defaults (gateway/src/environment.ts), printed with the results. */
const SHIPPED = { maxBufferedBytes: 1024 * 1024, slowClientCloseMs: 10_000 };
const SLOW_SCENARIO_CLIENTS = 1000;
/**
 * The slow client asks for as much as one connection may (100 subscriptions of 50 symbols, every
 * symbol 25 times, ~5,000 results/s): at only 200 results/s the kernel's socket buffers (~4 MiB on
 * loopback here) would absorb its stream for about a minute before the gateway's own limit is reached.
 */
const SLOW_SUBSCRIPTIONS = 100;
const SLOW_SYMBOLS_PER_SUBSCRIPTION = 50;
/** Until the kernel's buffers are full the slow client costs a full-speed client's sends: measured apart. */
const FILLING_SECONDS = 5;

interface TimelinePoint {
  /** Date.now() of the reading. */
  at: number;
  rssMb?: number;
  dropped: number;
  slowClosed: number;
}

/** Reads the gateway's RSS and slow-client counters every second until stopped. */
function trackGateway(run: Run) {
  const points: TimelinePoint[] = [];
  let tracking = true;
  const done = (async () => {
    while (tracking) {
      const m = await readMetricsOrEmpty(run.stack.gatewayMetricsUrl);
      points.push({
        at: Date.now(),
        rssMb: rssMb(run.stack.gateway.child.pid!),
        dropped: metric(m, 'subscription_messages_dropped_total'),
        slowClosed: metric(m, 'subscription_slow_clients_closed_total'),
      });
      await sleep(1000);
    }
  })();
  return {
    points,
    async stop() {
      tracking = false;
      await done;
    },
  };
}

/** Waits until the slow client has reported `event` (its messages arrive in bursts, so they are collected). */
async function slowEvent<E extends SlowEvent['event']>(events: SlowEvent[], event: E, timeoutMs: number): Promise<Extract<SlowEvent, { event: E }>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = events.find((e) => e.event === event || e.event === 'error');
    if (found?.event === 'error') throw new Error(`the slow client failed: ${found.message}`);
    if (found) return found as Extract<SlowEvent, { event: E }>;
    await sleep(100);
  }
  throw new Error(`the slow client did not report "${event}" within ${timeoutMs / 1000} s`);
}

/**
 * 1,000 normal clients measured without, then with, one client that subscribes to every symbol
 * and never reads. The timeline shows the gateway's memory and when it closed the slow client.
 */
export async function runSlowClient(bench: Bench) {
  const phase = Math.min(bench.options.duration, 15);
  const run = await startRun(bench, SLOW_SCENARIO_CLIENTS);
  const tracker = trackGateway(run);
  const slowEvents: SlowEvent[] = [];
  run.load.events.on('slow', (event: SlowEvent) => slowEvents.push(event));
  try {
    await sleep(bench.options.warmup * 1000);
    log(`  phase A: ${SLOW_SCENARIO_CLIENTS} clients, no slow client, ${phase} s`);
    const without = await measure(bench, run, phase);
    const token = run.slowToken;
    const symbols = bench.symbols;
    run.load.send({
      type: 'slow-open',
      plan: { url: run.stack.wsUrl, token, symbols, perSubscription: SLOW_SYMBOLS_PER_SUBSCRIPTION, subscriptions: SLOW_SUBSCRIPTIONS, query: QUERY },
    });
    const paused = await slowEvent(slowEvents, 'paused', 15_000);
    log(`  phase B: the slow client holds ${paused.subscriptions} subscriptions over all ${symbols.length} symbols and stopped reading`);
    // Two windows: while the kernel still takes its stream at full speed, then while it is behind.
    const filling = await measure(bench, run, FILLING_SECONDS);
    const behind = await measure(bench, run, Math.max(5, phase - FILLING_SECONDS));
    const closedAt = await waitForSlowClose(tracker.points, SHIPPED.slowClientCloseMs + 30_000);
    log('  resuming the slow client to read what was queued for it');
    run.load.send({ type: 'slow-resume' });
    const closed = await slowEvent(slowEvents, 'closed', 40_000).catch(() => undefined);
    const drained = await slowEvent(slowEvents, 'drained', 10_000).catch(() => undefined);
    await sleep(3000); // a few more points of the memory timeline after the close
    await tracker.stop();
    reportSlowClient([without, filling, behind], tracker.points, paused.at, closedAt, closed, drained);
  } finally {
    await tracker.stop();
    await finishRun(bench, run);
  }
}

/** When the gateway's counter says it closed a slow client (the client itself is not reading). */
async function waitForSlowClose(points: TimelinePoint[], timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const point = points.find((p) => p.slowClosed > 0);
    if (point) return point.at;
    await sleep(500);
  }
  return undefined;
}

function slowPhaseRow(name: string, m: Measurement): string[] {
  return [
    name,
    fixed(m.window.delivered / ((m.window.to - m.window.from) / 1000)),
    m.window.expectedFromFeed > 0 ? `${fixed((m.window.delivered / m.window.expectedFromFeed) * 100, 2)} %` : '-',
    String(m.window.latencyMs.p50),
    String(m.window.latencyMs.p99),
    String(m.window.latencyMs.max),
    String(m.window.lostInWindow),
    fixed(m.usage.gateway?.cpuPercent),
    fixed(m.usage.gateway?.rssMbMax),
    fixed(delta(m.before, m.after, 'subscription_messages_dropped_total')),
  ];
}

function reportSlowClient(
  [without, filling, behind]: Measurement[],
  timeline: TimelinePoint[],
  pausedAt: number,
  closedAt: number | undefined,
  closed: Extract<SlowEvent, { event: 'closed' }> | undefined,
  drained: Extract<SlowEvent, { event: 'drained' }> | undefined,
) {
  console.log(`\n### Slow client (${SLOW_SCENARIO_CLIENTS} normal clients + 1 that never reads)\n`);
  console.log(`gateway as shipped: SUBSCRIPTION_MAX_BUFFERED_BYTES=${SHIPPED.maxBufferedBytes}, SUBSCRIPTION_SLOW_CLIENT_CLOSE_MS=${SHIPPED.slowClientCloseMs} (defaults)\n`);
  printTable(
    [
      'normal clients',
      'delivered msg/s',
      'of feed ticks',
      'p50 ms',
      'p99 ms',
      'max ms',
      'lost conns',
      'gateway CPU %',
      'gateway RSS MB (max)',
      'results dropped at the slow client',
    ],
    [
      slowPhaseRow('without the slow client', without!),
      slowPhaseRow(`with it, its first ${FILLING_SECONDS} s (kernel buffers filling)`, filling!),
      slowPhaseRow('with it, behind until closed', behind!),
    ],
  );
  console.log('\ngateway RSS over time (t = seconds since the slow client stopped reading; negative = before it connected)\n');
  printTable(
    ['t s', 'gateway RSS MB', 'results dropped', 'slow clients closed'],
    timeline.filter((_, i) => i % 2 === 0).map((p) => [fixed((p.at - pausedAt) / 1000), fixed(p.rssMb, 1), String(p.dropped), String(p.slowClosed)]),
  );
  console.log(
    closedAt === undefined
      ? '\nthe gateway did NOT close the slow client within the wait'
      : `\nthe gateway closed the slow client between ${fixed((closedAt - pausedAt) / 1000 - 1)} and ${fixed((closedAt - pausedAt) / 1000)} s after it stopped reading (subscription_slow_clients_closed_total, read every second)`,
  );
  if (closed) {
    console.log(
      `resumed, the client read ${closed.messagesAfterResume} queued messages (${fixed(closed.bytesAfterResume / 1024)} KiB, kernel buffers included), then the close: code ${closed.code} "${closed.reason}"`,
    );
  } else {
    console.log(
      `resumed, the client saw no close within 40 s; it read ${drained?.messagesAfterResume ?? '?'} queued messages (${fixed((drained?.bytesAfterResume ?? NaN) / 1024)} KiB) in 5 s`,
    );
  }
}
