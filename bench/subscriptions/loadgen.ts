// The load generator: a separate process (forked by fanout.ts) that opens N raw `ws` clients
// speaking graphql-transport-ws, measures every message and reports over IPC. Raw `ws` rather
// than graphql-ws's client keeps the meter cheap: every microsecond spent here is taken from the
// gateway on the same 2 cores.
//
// Open loop: connections start on a fixed schedule (`rampPerSecond`) whatever the gateway
// answers, and latency is measured from the tick's exchange time (`Quote.time`, stamped by the
// feed), so a gateway that falls behind shows as latency, not as a slower meter.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import type { ConnectionStats, FromLoad, LatencySummary, LoadPlan, SlowPlan, ToLoad, WindowReport } from './ipc.js';

const PROTOCOL = 'graphql-transport-ws';
// The gateway writes `{"id":"1","type":"next","payload":...}`: looking for these bytes is far
// cheaper than JSON.parse of every message; other messages (ack, ping, error) are parsed.
const NEXT = Buffer.from('"type":"next"');
const SYMBOL = Buffer.from('"symbol":"');
const TIME = Buffer.from('"time":"');
const ERRORS = Buffer.from('"errors":');
const NULL_HEADLINE = Buffer.from('"latestHeadline":null');
const ISO_LENGTH = '2026-01-01T00:00:00.000Z'.length;
const QUOTE = 0x22;

interface Client {
  index: number;
  ws: WebSocket;
  symbols: number[];
  acked: boolean;
  /** Subscription sent and not refused. */
  subscribed: boolean;
  /** Set when the bench closes the connection, so that its close is not counted as lost. */
  closing: boolean;
  scheduledAt: number;
  subscribeSentAt: number;
  gotFirst: boolean;
  /** `next` messages in the measurement window. */
  inWindow: number;
  /** Subscribed when the window opened: those are the ones whose messages are expected. */
  counted: boolean;
  /**
   * The Quote.time last received per symbol index. A message repeating it is not a new tick: news
   * announces a new article about a symbol on its quote channel, and the gateway then sends the
   * quote as it stands (the same tick) with the new headline.
   */
  lastTime: Map<number, string>;
  ackTimer?: NodeJS.Timeout;
}

const newHistogram = (highest = 600_000) => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: highest, numberOfSignificantValueDigits: 3 });
const summarise = (h: ReturnType<typeof newHistogram>): LatencySummary => {
  const s = h.summary;
  return { p50: s.p50, p90: h.getValueAtPercentile(90), p99: s.p99, p999: s.p99_9, max: s.max, count: s.totalCount };
};

const clients: Client[] = [];
const ackLatency = newHistogram();
const firstValueLatency = newHistogram();
const stats: ConnectionStats = {
  attempted: 0,
  acked: 0,
  subscribed: 0,
  neverAcked: 0,
  lost: 0,
  closeCodes: {},
  subscribeErrors: 0,
  rampSeconds: 0,
  openedLate: 0,
  ackMs: summarise(ackLatency),
  firstValueMs: summarise(firstValueLatency),
};
let plan: LoadPlan | undefined;
let symbolIndex = new Map<string, number>();
let settled = 0;
let rampStopped = false;

// The measurement window: messages are counted by their Quote.time, whenever they arrive.
const latency = newHistogram();
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
let window = { active: false, from: 0, to: 0, openedAt: 0, received: [] as number[], delivered: 0, withErrors: 0, nullHeadlines: 0, stale: 0, lost: 0, repeats: 0 };
/** Per second of the window (by Quote.time): the slowest message and how many took over the aim. */
let perSecond: { max: number; overAim: number; count: number }[] = [];
const AIM_MS = 250;
/** Messages over the aim by tick (symbol and Quote.time): one late tick for all its subscribers, or a few sockets late? */
let lateTicks = new Map<string, { symbol: string; time: string; messages: number; max: number }>();
/** Last Quote.time text and value per symbol: most messages repeat the same tick to many clients. */
let lastTimeText: string[] = [];
let lastTimeMs: number[] = [];

function send(message: FromLoad) {
  process.send?.(message);
}

function snapshot(): ConnectionStats {
  stats.ackMs = summarise(ackLatency);
  stats.firstValueMs = summarise(firstValueLatency);
  return stats;
}

function subscribeMessage(id: string, query: string, symbols: string[]): string {
  return JSON.stringify({ id, type: 'subscribe', payload: { query, variables: { symbols } } });
}

/** Reads `"key":"<value>"` from a message without parsing it. */
function stringAfter(data: Buffer, key: Buffer, length?: number): string | undefined {
  const at = data.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  const end = length === undefined ? data.indexOf(QUOTE, start) : start + length;
  return end > start ? data.toString('latin1', start, end) : undefined;
}

/** One `next` message: counted and timed if its quote was stamped inside the window. */
function recordNext(client: Client, data: Buffer) {
  if (!client.gotFirst) {
    client.gotFirst = true;
    firstValueLatency.recordValue(Math.max(1, Math.round(performance.now() - client.subscribeSentAt)));
  }
  const symbol = stringAfter(data, SYMBOL);
  const time = stringAfter(data, TIME, ISO_LENGTH);
  const s = symbol === undefined ? undefined : symbolIndex.get(symbol);
  if (s === undefined || time === undefined) return;
  const repeat = client.lastTime.get(s) === time;
  client.lastTime.set(s, time);
  if (!window.active) return;
  // Each tick is timed once per client, when it first learns of it.
  if (repeat) {
    window.repeats++;
    return;
  }
  let timeMs = lastTimeMs[s]!;
  if (lastTimeText[s] !== time) {
    timeMs = Date.parse(time);
    lastTimeText[s] = time;
    lastTimeMs[s] = timeMs;
  }
  if (timeMs < window.from) {
    window.stale++;
    return;
  }
  if (timeMs >= window.to) return;
  window.received[s]!++;
  window.delivered++;
  client.inWindow++;
  const took = Math.max(0, Date.now() - timeMs);
  latency.recordValue(took);
  const second = perSecond[Math.floor((timeMs - window.from) / 1000)];
  if (second) {
    second.count++;
    if (took > second.max) second.max = took;
    if (took > AIM_MS) second.overAim++;
  }
  if (took > AIM_MS && symbol !== undefined) {
    const key = `${symbol}@${time}`;
    const late = lateTicks.get(key) ?? { symbol, time, messages: 0, max: 0 };
    late.messages++;
    late.max = Math.max(late.max, took);
    lateTicks.set(key, late);
  }
  if (data.indexOf(ERRORS) >= 0) window.withErrors++;
  if (data.indexOf(NULL_HEADLINE) >= 0) window.nullHeadlines++;
}

function settle(client: Client) {
  clearTimeout(client.ackTimer);
  client.ackTimer = undefined;
  settled++;
}

function openClient(p: LoadPlan, index: number, scheduledAt: number) {
  const ws = new WebSocket(p.url, PROTOCOL, { perMessageDeflate: false, handshakeTimeout: p.ackTimeoutMs });
  const client: Client = {
    index,
    ws,
    symbols: p.symbolSets[index]!,
    acked: false,
    subscribed: false,
    closing: false,
    scheduledAt,
    subscribeSentAt: 0,
    gotFirst: false,
    inWindow: 0,
    lastTime: new Map(),
    counted: false,
  };
  clients.push(client);
  stats.attempted++;
  client.ackTimer = setTimeout(() => {
    stats.neverAcked++;
    settle(client);
    client.closing = true;
    ws.terminate();
  }, p.ackTimeoutMs);

  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${p.tokens[index]}` } })));
  ws.on('message', (data: Buffer) => {
    const head = data.indexOf(NEXT);
    if (head >= 0 && head < 64) return recordNext(client, data);
    const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
    if (message.type === 'connection_ack' && !client.acked) {
      client.acked = true;
      stats.acked++;
      ackLatency.recordValue(Math.max(1, Math.round(performance.now() - client.scheduledAt)));
      settle(client);
      client.subscribeSentAt = performance.now();
      ws.send(
        subscribeMessage(
          '1',
          p.query,
          client.symbols.map((s) => p.symbols[s]!),
        ),
      );
      client.subscribed = true;
      stats.subscribed++;
    } else if (message.type === 'ping') {
      ws.send('{"type":"pong"}');
    } else if (message.type === 'pong') {
      const answer = message.payload as { renewed?: boolean; message?: string } | undefined;
      if (answer?.renewed === true) renewal.renewed++;
      else if (answer?.renewed === false) {
        renewal.refused++;
        renewal.firstRefusal ??= answer.message;
      }
    } else if (message.type === 'error') {
      stats.subscribeErrors++;
      stats.firstSubscribeError ??= JSON.stringify(message.payload).slice(0, 300);
      if (client.subscribed) {
        client.subscribed = false;
        stats.subscribed--;
      }
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
    if (window.active) window.lost++;
    if (client.subscribed) {
      client.subscribed = false;
      stats.subscribed--;
    }
  } else if (client.ackTimer) {
    stats.neverAcked++;
    settle(client);
  }
}

/**
 * Opens the clients on a fixed schedule: client i starts at i / rampPerSecond seconds, whether or
 * not the earlier ones were answered. Reports progress every second.
 */
async function openAll(p: LoadPlan) {
  plan = p;
  symbolIndex = new Map(p.symbols.map((s, i) => [s, i]));
  lastTimeText = p.symbols.map(() => '');
  lastTimeMs = p.symbols.map(() => 0);
  const count = p.tokens.length;
  const startedAt = performance.now();
  const progress = setInterval(() => send({ type: 'progress', stats: snapshot() }), 1000);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      while (!rampStopped && stats.attempted < count) {
        const scheduledAt = startedAt + (stats.attempted * 1000) / p.rampPerSecond;
        if (scheduledAt > now) break;
        if (now - scheduledAt > 100) stats.openedLate++;
        openClient(p, stats.attempted, scheduledAt);
      }
      if (settled === (rampStopped ? stats.attempted : count)) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  clearInterval(progress);
  stats.rampSeconds = (performance.now() - startedAt) / 1000;
  send({ type: 'opened', stats: snapshot() });
}

function startWindow(from: number, to: number) {
  latency.reset();
  loopDelay.reset();
  loopDelay.enable();
  for (const client of clients) {
    client.inWindow = 0;
    client.counted = client.subscribed;
  }
  window = {
    active: true,
    from,
    to,
    openedAt: performance.now(),
    received: (plan?.symbols ?? []).map(() => 0),
    delivered: 0,
    withErrors: 0,
    nullHeadlines: 0,
    stale: 0,
    lost: 0,
    repeats: 0,
  };
  lateTicks = new Map();
  perSecond = Array.from({ length: Math.ceil((to - from) / 1000) }, () => ({ max: 0, overAim: 0, count: 0 }));
}

function report(feedTicks: number[], ingestPublished: number[]): WindowReport {
  window.active = false;
  loopDelay.disable();
  const subscribersPerSymbol = (plan?.symbols ?? []).map(() => 0);
  let expectedFromFeed = 0;
  let expectedFromIngest = 0;
  let clientsShort = 0;
  let silentClients = 0;
  for (const client of clients) {
    if (!client.counted) continue;
    let expected = 0;
    for (const s of client.symbols) {
      subscribersPerSymbol[s]!++;
      expected += feedTicks[s] ?? 0;
      expectedFromIngest += ingestPublished[s] ?? 0;
    }
    expectedFromFeed += expected;
    if (client.inWindow < expected) clientsShort++;
    if (client.inWindow === 0 && expected > 0) silentClients++;
  }
  return {
    from: window.from,
    to: window.to,
    graceSeconds: (Date.now() - window.to) / 1000,
    receivedPerSymbol: window.received,
    subscribersPerSymbol,
    expectedFromFeed,
    expectedFromIngest,
    delivered: window.delivered,
    latencyMs: summarise(latency),
    messagesWithErrors: window.withErrors,
    nullHeadlines: window.nullHeadlines,
    staleArrivals: window.stale,
    repeats: window.repeats,
    clientsShort,
    silentClients,
    lostInWindow: window.lost,
    loadLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    perSecond,
    lateTicks: [...lateTicks.values()]
      .sort((a, b) => b.max - a.max)
      .slice(0, 5)
      .map((t) => ({ ...t, subscribers: subscribersPerSymbol[symbolIndex.get(t.symbol) ?? -1] ?? 0 })),
  };
}

// Session renewal: each open client sends its new token on a ping, as a long-lived client does
// before its access token expires (gateway/src/subscriptions/websocket.ts); the pongs are counted.
let renewal = { sent: 0, renewed: 0, refused: 0, firstRefusal: undefined as string | undefined };

async function renewAll(tokens: string[]) {
  renewal = { sent: 0, renewed: 0, refused: 0, firstRefusal: undefined };
  for (const client of clients) {
    const token = tokens[client.index];
    if (!token || !client.acked || client.closing || client.ws.readyState !== WebSocket.OPEN) continue;
    client.ws.send(JSON.stringify({ type: 'ping', payload: { authorization: `Bearer ${token}` } }));
    renewal.sent++;
  }
  const deadline = Date.now() + 30_000;
  while (renewal.renewed + renewal.refused < renewal.sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  send({ type: 'renewed', ...renewal });
}

// The slow client: one connection that subscribes to every symbol and then never reads.
let slow: { ws: WebSocket; resumedBytes: number; resumedMessages: number; resumed: boolean } | undefined;

function openSlowClient(p: SlowPlan) {
  const ws = new WebSocket(p.url, PROTOCOL, { perMessageDeflate: false });
  slow = { ws, resumedBytes: 0, resumedMessages: 0, resumed: false };
  const state = slow;
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${p.token}` } })));
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
    const groups = Math.ceil(p.symbols.length / p.perSubscription);
    for (let k = 0; k < p.subscriptions; k++) {
      const start = (k % groups) * p.perSubscription;
      ws.send(subscribeMessage(`slow-${k}`, p.query, p.symbols.slice(start, start + p.perSubscription)));
    }
    // Stop reading the TCP socket: the kernel buffers fill, then the gateway's send buffer does.
    ws.pause();
    send({ type: 'slow', event: 'paused', at: Date.now(), subscriptions: p.subscriptions });
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
  rampStopped = true;
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
      startWindow(message.from, message.to);
      break;
    case 'measure-report':
      send({ type: 'window', report: report(message.feedTicks, message.ingestPublished), stats: snapshot() });
      break;
    case 'renew':
      void renewAll(message.tokens);
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
