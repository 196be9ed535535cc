// An open-loop HTTP load: requests leave on a fixed schedule (a constant arrival rate), whether or
// not earlier ones have answered, and each latency is measured from the request's scheduled time,
// so a stall on the server shows up in the figures instead of slowing the load down.
import http from 'node:http';

export interface OpenLoopResult {
  targetRate: number;
  /** Answers per second actually received over the run. */
  achievedRate: number;
  sent: number;
  ok: number;
  failed: number;
  /** Milliseconds from the scheduled send to the end of the answer. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** How late, at worst, the generator itself sent a request (ms): a large value means the figures measure the load generator. */
  worstSendLagMs: number;
}

export async function openLoop(options: {
  url: string;
  rate: number;
  seconds: number;
  headers: Record<string, string>;
  body: string;
  /** Whether an answer counts as a success (status and body). */
  ok: (status: number, body: string) => boolean;
}): Promise<OpenLoopResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let worstLag = 0;
  const body = Buffer.from(options.body);
  const started = performance.now();
  let lastAnswer = started;

  const send = (scheduled: number) =>
    new Promise<void>((resolve) => {
      const request = http.request(
        { host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { ...options.headers, 'content-length': body.length } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            lastAnswer = performance.now();
            latencies.push(lastAnswer - scheduled);
            if (options.ok(response.statusCode ?? 0, Buffer.concat(chunks).toString())) ok++;
            else failed++;
            resolve();
          });
        },
      );
      request.on('error', () => {
        failed++;
        resolve();
      });
      request.end(body);
    });

  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + i * intervalMs;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    worstLag = Math.max(worstLag, performance.now() - scheduled);
    inflight.push(send(scheduled));
  }
  await Promise.all(inflight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    targetRate: options.rate,
    achievedRate: latencies.length / ((lastAnswer - started) / 1000),
    sent: total,
    ok,
    failed,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    worstSendLagMs: worstLag,
  };
}
