// The one HTTP load generator of the benchmarks in bench/ (issue 18, acceptance 4).
//
// Open loop (`rate` set): request i is due at start + i / rate, on a fixed schedule, whatever the
// answers to earlier ones; it goes out over a bounded pool of kept-alive connections
// (`connections`, a node:http Agent). If every connection is busy when a request is due, the
// request waits in the pool's queue, and its latency still counts from its *scheduled* time: a
// stall on the server shows in the figures instead of slowing the load down (coordinated omission
// corrected). Closed loop (no `rate`): `connections` loops, each sending its next request as soon
// as the previous one is answered (what k6's constant VUs and autocannon do); latency from the
// actual send. Both record into HDR histograms (microseconds, 3 significant digits).
//
// The generator shares the machine with what it measures, so it reports its own cost: CPU (% of
// one core and per request), event-loop delay, and how late it sent (open loop).
import http from 'node:http';
import https from 'node:https';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';

export interface LoadRequest {
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface LoadOptions {
  url: string;
  /** Requests per second, on a fixed schedule (open loop). Unset: closed loop. */
  rate?: number;
  /** Kept-alive connections: the pool's size (open loop), the number of loops (closed loop). */
  connections: number;
  seconds: number;
  method?: 'POST' | 'GET';
  headers?: Record<string, string>;
  /** The same body for every request... */
  body?: string | Buffer;
  /** ...or each request's own (i counts from 0): e.g. another user's token. */
  request?: (i: number) => LoadRequest;
  /**
   * Whether an answer is right, beyond a 2xx status and no `"errors"` in the body: undefined if
   * it is, else the reason (counted by reason). `i`: the request's number, as given to `request`.
   */
  validate?: (body: Buffer, status: number, i: number) => string | undefined;
  /**
   * Every answer must be exactly these bytes (one trailing newline aside: Apollo Server ends its
   * body with one), checked instead of searching each body for `"errors"` (this answer has none).
   * On an 87.6 KB answer the search was a fifth of the generator's CPU, the comparison 1.5 %.
   */
  expectedAnswer?: Buffer;
  /**
   * Called with every 2xx answer without GraphQL errors: the request's number, its body, and the instant (performance.now())
   * its latency counts from: its scheduled time (open loop) or its send (closed loop).
   */
  onAnswer?: (i: number, body: Buffer, from: number) => void;
  /** An answer not complete this long after its scheduled (open) or actual (closed) send counts as an error. */
  timeoutMs?: number;
  /** For an https:// url: the certificate authority to trust (e.g. the local CA of `npm run stack`'s NGINX edge). */
  ca?: string | Buffer;
}

export interface Latency {
  /** Milliseconds. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  mode: 'open' | 'closed';
  connections: number;
  /** Requests per second asked for (open loop); NaN in closed loop. */
  targetRate: number;
  /**
   * Answers per second. Open loop: answers / the run's `seconds` (or from the first send to the last
   * answer if that is longer: a server that falls behind shows it). Closed loop: answers that
   * arrived within `seconds`, / `seconds` (those in flight at the end are waited for and counted in
   * the latencies and in `answered`, not here).
   */
  achievedRate: number;
  seconds: number;
  sent: number;
  answered: number;
  ok: number;
  /** Not OK: transport errors, timeouts, non-2xx, GraphQL errors, failed validation. */
  errors: number;
  /** Errors by reason. */
  errorReasons: Record<string, number>;
  /** The first answer (its first 500 characters) of each reason that had one. */
  errorSamples: Record<string, string>;
  latency: Latency;
  /** Mean bytes of an answer's body. */
  bytesPerAnswer: number;
  generator: {
    /** CPU of this process over the run, % of one core. */
    cpuPercent: number;
    /** ... per answer, ms. */
    cpuMsPerRequest: number;
    /** Event-loop delay of this process, ms. */
    loopDelayP99Ms: number;
    loopDelayMaxMs: number;
    /** Open loop: the latest a request left after its scheduled time (ms), and how many left over 5 ms late. */
    worstSendLagMs: number;
    lateSends: number;
  };
}

const MS = 1000; // the histograms hold microseconds
const GRAPHQL_ERRORS = Buffer.from('"errors"');

/** When request i of an open-loop run is due, in ms after the start. */
export const scheduledAt = (i: number, rate: number): number => (i * 1000) / rate;

/** How many requests of an open-loop run are due by `elapsedMs` after the start (those scheduled at or before it). */
export const dueBy = (elapsedMs: number, rate: number, total: number): number => Math.min(total, Math.floor((elapsedMs * rate) / 1000) + 1);

export function histogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

export function latencyOf(h: hdr.Histogram): Latency {
  const at = (q: number) => (h.totalCount ? h.getValueAtPercentile(q) / MS : NaN);
  return { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: h.totalCount ? h.maxValue / MS : NaN, mean: h.totalCount ? h.mean / MS : NaN };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const method = options.method ?? 'POST';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const pool = { keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections, scheduling: 'fifo' } as const;
  const secure = target.protocol === 'https:';
  const agent = secure ? new https.Agent({ ...pool, ca: options.ca }) : new http.Agent(pool);
  const transport = secure ? https.request : http.request;
  const fixedBody = options.body === undefined ? undefined : Buffer.from(options.body);
  const expected = options.expectedAnswer;
  if (expected?.includes(GRAPHQL_ERRORS)) throw new Error('expectedAnswer holds GraphQL errors: an answer equal to it would count as right');
  const isExpected = (text: Buffer, expected: Buffer) =>
    (text.length === expected.length || (text.length === expected.length + 1 && text[text.length - 1] === 10)) &&
    text.compare(expected, 0, expected.length, 0, expected.length) === 0;
  const requestOf = (i: number): { headers: Record<string, string>; body: Buffer | undefined } => {
    if (options.request) {
      const r = options.request(i);
      return { headers: { ...options.headers, ...r.headers }, body: Buffer.from(r.body) };
    }
    return { headers: options.headers ?? {}, body: fixedBody };
  };
  const latency = histogram();
  const errorReasons: Record<string, number> = {};
  const errorSamples: Record<string, string> = {};
  let answered = 0;
  /** Closed loop: answers that arrived within the run's `seconds` (the throughput, as k6 and autocannon count it). */
  let answeredInTime = 0;
  let until = Infinity;
  let ok = 0;
  let bytes = 0;
  let lastAnswer = 0;
  const fail = (reason: string) => (errorReasons[reason] = (errorReasons[reason] ?? 0) + 1);

  /** One request; resolves when answered or failed. `from`: the instant its latency counts from. */
  const send = (i: number, from: number) =>
    new Promise<void>((resolve) => {
      const { headers, body } = requestOf(i);
      let done = false;
      const finish = (reason: string | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const now = performance.now();
        lastAnswer = now;
        answered++;
        if (now <= until) answeredInTime++;
        latency.recordValue(Math.max(1, Math.round((now - from) * MS)));
        if (reason) fail(reason);
        else ok++;
        resolve();
      };
      const request = transport(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method,
          agent,
          headers: { ...headers, ...(body ? { 'content-length': body.length } : {}) },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', () => finish('response aborted'));
          response.on('end', () => {
            const text = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
            bytes += text.length;
            const status = response.statusCode ?? 0;
            let reason: string | undefined;
            if (status < 200 || status > 299) reason = `HTTP ${status}`;
            else if (expected && !isExpected(text, expected)) reason = 'not the expected answer';
            else if (!expected && text.includes(GRAPHQL_ERRORS)) reason = 'GraphQL errors';
            else {
              options.onAnswer?.(i, text, from);
              reason = options.validate?.(text, status, i);
            }
            if (reason && !(reason in errorSamples)) errorSamples[reason] = text.subarray(0, 500).toString();
            finish(reason);
          });
        },
      );
      // Counted from the scheduled (or actual) send: a request queued behind busy connections runs out of time too.
      const timer = setTimeout(
        () => {
          finish('timeout');
          request.destroy();
        },
        Math.max(1, from + timeoutMs - performance.now()),
      );
      request.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
      request.end(body);
    });

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const durationMs = options.seconds * 1000;
  let sent = 0;
  let worstLag = 0;
  let lateSends = 0;
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.then(() => inflight.delete(p));
  };

  if (options.rate !== undefined) {
    const rate = options.rate;
    const total = Math.max(1, Math.round(rate * options.seconds));
    // One timer: each time it fires, everything due by now leaves (so coarse timers and a busy loop
    // delay requests, they never drop them), then it sleeps until the next one is due.
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = dueBy(now - started, rate, total);
        for (; sent < due; sent++) {
          const scheduled = started + scheduledAt(sent, rate);
          const lag = now - scheduled;
          if (lag > worstLag) worstLag = lag;
          if (lag > 5) lateSends++;
          track(send(sent, scheduled));
        }
        if (sent >= total) return resolve();
        setTimeout(tick, Math.max(0, started + scheduledAt(sent, rate) - performance.now()));
      };
      tick();
    });
  } else {
    until = started + durationMs;
    const worker = async () => {
      while (performance.now() < until) {
        const i = sent++;
        await send(i, performance.now());
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
  }
  await Promise.all(inflight);
  const cpu = process.cpuUsage(cpuBefore);
  loop.disable();
  agent.destroy();
  // The run lasts its schedule (`seconds`), or until its last answer if that comes later: a server
  // that keeps up achieves the target exactly, one that falls behind shows it.
  const elapsedS = Math.max(options.seconds, ((lastAnswer || performance.now()) - started) / 1000);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    mode: options.rate !== undefined ? 'open' : 'closed',
    connections: options.connections,
    targetRate: options.rate ?? NaN,
    achievedRate: options.rate !== undefined ? answered / elapsedS : answeredInTime / options.seconds,
    seconds: elapsedS,
    sent,
    answered,
    ok,
    errors: answered - ok,
    errorReasons,
    errorSamples,
    latency: latencyOf(latency),
    bytesPerAnswer: answered ? bytes / answered : 0,
    generator: {
      cpuPercent: cpuMs / 10 / elapsedS,
      cpuMsPerRequest: answered ? cpuMs / answered : NaN,
      loopDelayP99Ms: loop.percentile(99) / 1e6,
      loopDelayMaxMs: loop.max / 1e6,
      worstSendLagMs: worstLag,
      lateSends,
    },
  };
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** One line: target vs achieved, latency, errors and what the generator cost. */
export function describeLoad(r: LoadResult): string {
  const rate =
    r.mode === 'open' ? `open loop, target ${f(r.targetRate, 0)}/s, achieved ${f(r.achievedRate)}/s` : `closed loop, ${r.connections} connections, achieved ${f(r.achievedRate)}/s`;
  const errors = r.errors
    ? `${r.errors} errors (${Object.entries(r.errorReasons)
        .map(([k, v]) => `${k}: ${v}${r.errorSamples[k] ? `, first: ${r.errorSamples[k]!.slice(0, 200)}` : ''}`)
        .join('; ')})`
    : '0 errors';
  const lag = r.mode === 'open' ? `, sent late ≤ ${f(r.generator.worstSendLagMs)} ms (${r.generator.lateSends} over 5 ms)` : '';
  return (
    `${rate}; ${r.answered}/${r.sent} answered, ${errors}; p50 ${f(r.latency.p50)} p90 ${f(r.latency.p90)} p99 ${f(r.latency.p99)} max ${f(r.latency.max)} ms; ` +
    `load generator ${f(r.generator.cpuPercent, 0)} % CPU (${f(r.generator.cpuMsPerRequest, 3)} ms/req), loop delay p99 ${f(r.generator.loopDelayP99Ms)} ms${lag}`
  );
}
