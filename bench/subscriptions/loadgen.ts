// The load generator: a separate process (forked by fanout.ts) that opens N raw `ws` clients
// speaking graphql-transport-ws, measures every message and reports over IPC. Raw `ws` rather
// than graphql-ws's client keeps the meter cheap: at 10,000 clients it handles ~30,000 messages/s
// on the same 2 cores as the gateway, so every microsecond spent here is taken from the gateway.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import type { ConnectionStats, FromLoad, LoadPlan, SlowPlan, ToLoad, WindowReport } from './ipc.js';

const PROTOCOL = 'graphql-transport-ws';
// The gateway writes `{"id":"1","type":"next","payload":...}`: looking for these bytes is far
// cheaper than JSON.parse of every message; other messages (ack, ping, error) are parsed.
const NEXT = Buffer.from('"type":"next"');
const TIME = Buffer.from('"time":"');
const ERRORS = Buffer.from('"errors":');
const ISO_LENGTH = '2026-01-01T00:00:00.000Z'.length;

interface Client {
  ws: WebSocket;
  acked: boolean;
  /** Subscriptions open and the (client, symbol) pairs they cover (the messages/s it should get). */
  subscriptions: number;
  pairs: number;
  /** Set when the bench closes the connection, so that its close is not counted as lost. */
  closing: boolean;
  messagesInWindow: number;
  ackTimer?: NodeJS.Timeout;
}

const clients: Client[] = [];
const stats: ConnectionStats = {
  attempted: 0,
  acked: 0,
  subscribed: 0,
  symbolPairs: 0,
  neverAcked: 0,
  lost: 0,
  closeCodes: {},
  subscribeErrors: 0,
  rampSeconds: 0,
};
let settled = 0;
let rampStartedAt = 0;
let rampStopped = false;

// The measurement window: reset on measure-start, read on measure-stop.
const latency = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000, numberOfSignificantValueDigits: 3 });
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let window = { open: false, startedAt: 0, messages: 0, withErrors: 0, lost: 0, cpu: process.cpuUsage() };

function send(message: FromLoad) {
  process.send?.(message);
}

/** Small seeded PRNG (mulberry32): the same seed gives the same symbol sets run after run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** k distinct symbols, in feed order (a client lists its watchlist once, in one order). */
function pickSymbols(plan: LoadPlan, next: () => number): string[] {
  const count = plan.minSymbols + Math.floor(next() * (plan.maxSymbols - plan.minSymbols + 1));
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(Math.floor(next() * plan.symbols.length));
  return [...chosen].sort((a, b) => a - b).map((i) => plan.symbols[i]!);
}

function subscribeMessage(id: string, symbols: string[], selection: string, inline: boolean): string {
  const payload = inline
    ? { query: `subscription { quotes(symbols: ${JSON.stringify(symbols)}) { ${selection} } }` }
    : { query: `subscription Quotes($symbols: [String!]!) { quotes(symbols: $symbols) { ${selection} } }`, variables: { symbols } };
  return JSON.stringify({ id, type: 'subscribe', payload });
}

function subscribeOneMessage(id: string, symbol: string, selection: string): string {
  const payload = { query: `subscription Quote($symbol: String!) { quote(symbol: $symbol) { ${selection} } }`, variables: { symbol } };
  return JSON.stringify({ id, type: 'subscribe', payload });
}

/** Sends the client's subscriptions as the plan's shape says. */
function subscribeClient(client: Client, plan: LoadPlan, symbols: string[]) {
  if (plan.shape === 'quote') {
    symbols.forEach((symbol, i) => client.ws.send(subscribeOneMessage(String(i + 1), symbol, plan.selection)));
    addSubscriptions(client, symbols.length, symbols.length);
  } else {
    client.ws.send(subscribeMessage('1', symbols, plan.selection, plan.inlineArguments));
    addSubscriptions(client, 1, symbols.length);
  }
}

function addSubscriptions(client: Client, subscriptions: number, pairs: number) {
  client.subscriptions += subscriptions;
  client.pairs += pairs;
  stats.subscribed += subscriptions;
  stats.symbolPairs += pairs;
}

/** Latency of one `next` message: from the tick's exchange timestamp to now, in whole ms. */
function recordNext(client: Client, data: Buffer) {
  if (!window.open) return;
  window.messages++;
  client.messagesInWindow++;
  const at = data.indexOf(TIME);
  if (at >= 0) {
    const sent = Date.parse(data.toString('latin1', at + TIME.length, at + TIME.length + ISO_LENGTH));
    if (Number.isFinite(sent)) latency.recordValue(Math.max(0, Date.now() - sent));
  }
  if (data.indexOf(ERRORS) >= 0) window.withErrors++;
}

function settle(client: Client) {
  clearTimeout(client.ackTimer);
  client.ackTimer = undefined;
  settled++;
}

function openClient(plan: LoadPlan, index: number, symbols: string[]) {
  const ws = new WebSocket(plan.url, PROTOCOL, { perMessageDeflate: false, handshakeTimeout: plan.ackTimeoutMs });
  const client: Client = { ws, acked: false, subscriptions: 0, pairs: 0, closing: false, messagesInWindow: 0 };
  clients.push(client);
  stats.attempted++;
  client.ackTimer = setTimeout(() => {
    stats.neverAcked++;
    settle(client);
    client.closing = true;
    ws.terminate();
  }, plan.ackTimeoutMs);

  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${plan.tokens[index % plan.tokens.length]}` } })));
  ws.on('message', (data: Buffer) => {
    const head = data.indexOf(NEXT);
    if (head >= 0 && head < 64) return recordNext(client, data);
    const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
    if (message.type === 'connection_ack' && !client.acked) {
      client.acked = true;
      stats.acked++;
      settle(client);
      subscribeClient(client, plan, symbols);
    } else if (message.type === 'ping') {
      ws.send('{"type":"pong"}');
    } else if (message.type === 'error') {
      stats.subscribeErrors++;
      stats.firstSubscribeError ??= JSON.stringify(message.payload).slice(0, 300);
      // One subscription failed: a whole client in the `quotes` shape, one symbol in `quote`.
      addSubscriptions(client, -1, -(client.pairs / client.subscriptions));
    }
  });
  ws.on('error', () => {
    // A 'close' follows every 'error'; it does the counting.
  });
  ws.on('close', (code) => onClose(client, code));
}

function onClose(client: Client, code: number) {
  if (client.closing) return;
  stats.closeCodes[code] = (stats.closeCodes[code] ?? 0) + 1;
  if (client.acked) {
    stats.lost++;
    if (window.open) window.lost++;
    addSubscriptions(client, -client.subscriptions, -client.pairs);
  } else if (client.ackTimer) {
    stats.neverAcked++;
    settle(client);
  }
}

/**
 * Opens the clients at a bounded rate (a burst of thousands of handshakes would measure the ramp,
 * not the fan-out) with at most maxInFlight handshakes outstanding; reports progress every second.
 */
async function openAll(plan: LoadPlan) {
  const next = random(plan.seed);
  const sets = Array.from({ length: plan.clients }, () => pickSymbols(plan, next));
  rampStartedAt = performance.now();
  const progress = setInterval(() => send({ type: 'progress', stats }), 1000);
  let allowance = 0;
  let last = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      allowance = Math.min(allowance + ((now - last) / 1000) * plan.rampPerSecond, plan.rampPerSecond / 10);
      last = now;
      while (!rampStopped && allowance >= 1 && stats.attempted < plan.clients && stats.attempted - settled < plan.maxInFlight) {
        openClient(plan, stats.attempted, sets[stats.attempted]!);
        allowance--;
      }
      if (settled === (rampStopped ? stats.attempted : plan.clients)) {
        clearInterval(tick);
        resolve();
      }
    }, 10);
  });
  clearInterval(progress);
  stats.rampSeconds = (performance.now() - rampStartedAt) / 1000;
  send({ type: 'opened', stats });
}

function startWindow() {
  latency.reset();
  loopDelay.reset();
  loopDelay.enable();
  for (const client of clients) client.messagesInWindow = 0;
  window = { open: true, startedAt: performance.now(), messages: 0, withErrors: 0, lost: 0, cpu: process.cpuUsage() };
}

function stopWindow(): WindowReport {
  window.open = false;
  loopDelay.disable();
  const seconds = (performance.now() - window.startedAt) / 1000;
  const cpu = process.cpuUsage(window.cpu);
  const summary = latency.summary;
  return {
    seconds,
    messages: window.messages,
    expectedPerSecond: stats.symbolPairs,
    latencyMs: { p50: summary.p50, p90: latency.getValueAtPercentile(90), p99: summary.p99, p999: summary.p99_9, max: summary.max, count: summary.totalCount },
    messagesWithErrors: window.withErrors,
    silentClients: clients.filter((c) => c.subscriptions > 0 && c.messagesInWindow === 0).length,
    lostInWindow: window.lost,
    loadCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    loadLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
  };
}

// The slow client: one connection that subscribes to every symbol and then never reads.
let slow: { ws: WebSocket; resumedBytes: number; resumedMessages: number; resumed: boolean } | undefined;

function openSlowClient(plan: SlowPlan) {
  const ws = new WebSocket(plan.url, PROTOCOL, { perMessageDeflate: false });
  slow = { ws, resumedBytes: 0, resumedMessages: 0, resumed: false };
  const state = slow;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${plan.token}` } })));
  ws.on('message', (data: Buffer) => {
    if (state.resumed) {
      state.resumedBytes += data.length;
      state.resumedMessages++;
      return;
    }
    const message = JSON.parse(data.toString()) as { type: string };
    if (message.type !== 'connection_ack') return;
    send({ type: 'slow', event: 'acked', at: Date.now() });
    // The gateway allows 50 symbols per subscription and 100 subscriptions per connection: the
    // groups of symbols repeat, so the slow client asks for as much as one connection may.
    const groups = Math.ceil(plan.symbols.length / plan.perSubscription);
    for (let k = 0; k < plan.subscriptions; k++) {
      const start = (k % groups) * plan.perSubscription;
      ws.send(subscribeMessage(`slow-${k}`, plan.symbols.slice(start, start + plan.perSubscription), plan.selection, false));
    }
    const subscriptions = plan.subscriptions;
    // Stop reading the TCP socket: the kernel buffers fill, then the gateway's send buffer does.
    ws.pause();
    send({ type: 'slow', event: 'paused', at: Date.now(), subscriptions });
  });
  ws.on('error', (error) => send({ type: 'slow', event: 'error', at: Date.now(), message: error.message }));
  ws.on('close', (code, reason) =>
    send({ type: 'slow', event: 'closed', at: Date.now(), code, reason: reason.toString(), bytesAfterResume: state.resumedBytes, messagesAfterResume: state.resumedMessages }),
  );
}

/** Reads what was queued for the slow client, which ends with the gateway's close frame (if any). */
function resumeSlowClient() {
  if (!slow) return;
  const state = slow;
  state.resumed = true;
  state.ws.resume();
  setTimeout(() => send({ type: 'slow', event: 'drained', at: Date.now(), bytesAfterResume: state.resumedBytes, messagesAfterResume: state.resumedMessages }), 5000);
}

/** Closes every client as a client would (1000), then exits; stragglers are terminated. */
async function closeAll() {
  for (const client of clients) {
    client.closing = true;
    clearTimeout(client.ackTimer);
    if (client.ws.readyState === WebSocket.OPEN) client.ws.close(1000, 'bench done');
    else client.ws.terminate();
  }
  slow?.ws.terminate();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && clients.some((c) => c.ws.readyState !== WebSocket.CLOSED)) await new Promise((r) => setTimeout(r, 100));
  for (const client of clients) client.ws.terminate();
  send({ type: 'closed' });
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (message: ToLoad) => {
  switch (message.type) {
    case 'open':
      void openAll(message.plan);
      break;
    case 'stop-ramp':
      rampStopped = true;
      break;
    case 'measure-start':
      startWindow();
      break;
    case 'measure-stop':
      send({ type: 'window', report: stopWindow(), stats });
      break;
    case 'slow-open':
      openSlowClient(message.plan);
      break;
    case 'slow-resume':
      resumeSlowClient();
      break;
    case 'close':
      void closeAll();
      break;
  }
});
// Ctrl-C reaches the whole process group: the bench decides when this process stops.
process.on('SIGINT', () => {});
// If the bench dies, do not linger with thousands of sockets open.
process.on('disconnect', () => process.exit(0));
