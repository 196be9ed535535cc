import net, { type AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a real server (the machine's shared Redis, PostgreSQL or DynamoDB API,
 * which other tests use at the same time and so must never be broken themselves), which a fault
 * test can break in three ways:
 *
 * - pause(): connections stay open but no byte goes through, in either direction, and new
 *   connections are accepted and held the same way: what `CLIENT PAUSE ... ALL` or a hung host
 *   behind a live TCP connection looks like to a client. resume() delivers what was held, in
 *   order, and forwards again.
 * - kill(): every connection is reset and new ones are refused (reset at once): a crashed or
 *   unreachable server. resume() accepts again.
 * - delay(ms): every chunk, both ways, is forwarded `ms` later (order kept): a slow network or a
 *   slow server. delay(0) forwards at once again.
 */
export async function startFaultProxy(target: { host: string; port: number }) {
  type Pair = {
    client: net.Socket;
    upstream?: net.Socket;
    toUpstream: Buffer[];
    toClient: Buffer[];
    timeline: { due: number; toUpstream: Buffer[]; toClient: Buffer[] }[];
    timer?: NodeJS.Timeout;
  };
  const pairs = new Set<Pair>();
  let mode: 'forwarding' | 'paused' | 'killed' = 'forwarding';
  let latencyMs = 0;

  const flush = (pair: Pair) => {
    if (mode !== 'forwarding' || !pair.upstream) return;
    const toUpstream = pair.toUpstream.splice(0);
    const toClient = pair.toClient.splice(0);
    if (!toUpstream.length && !toClient.length) return;
    // A timeline per connection: what is delayed goes out in order, even after delay(0).
    pair.timeline.push({ due: performance.now() + latencyMs, toUpstream, toClient });
    pump(pair);
  };
  const pump = (pair: Pair) => {
    if (pair.timer) return;
    while (pair.timeline.length) {
      const next = pair.timeline[0]!;
      const wait = next.due - performance.now();
      if (wait > 0) {
        pair.timer = setTimeout(() => {
          pair.timer = undefined;
          pump(pair);
        }, wait);
        return;
      }
      pair.timeline.shift();
      for (const chunk of next.toUpstream) if (pair.upstream && !pair.upstream.destroyed) pair.upstream.write(chunk);
      for (const chunk of next.toClient) if (!pair.client.destroyed) pair.client.write(chunk);
    }
  };
  const drop = (pair: Pair) => {
    pairs.delete(pair);
    clearTimeout(pair.timer);
    pair.client.destroy();
    pair.upstream?.destroy();
  };

  const server = net.createServer((client) => {
    if (mode === 'killed') {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, toUpstream: [], toClient: [], timeline: [] };
    pairs.add(pair);
    client.on('error', () => drop(pair));
    client.on('close', () => drop(pair));
    client.on('data', (chunk: Buffer) => {
      pair.toUpstream.push(chunk);
      flush(pair);
    });
    const upstream = net.connect(target.port, target.host, () => {
      pair.upstream = upstream;
      flush(pair);
    });
    upstream.on('error', () => drop(pair));
    upstream.on('close', () => drop(pair));
    upstream.on('data', (chunk: Buffer) => {
      pair.toClient.push(chunk);
      flush(pair);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    /** The proxy's address with the target's scheme, path and credentials, e.g. for DATABASE_URL. */
    in: (targetUrl: string) => {
      const url = new URL(targetUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    /** Forwards every chunk `ms` later, both ways (0: at once). */
    delay(ms: number) {
      latencyMs = ms;
    },
    /** Holds every byte, both ways, on open and new connections, until resume(). */
    pause() {
      mode = 'paused';
    },
    /** Resets every connection and refuses new ones until resume(). */
    kill() {
      mode = 'killed';
      for (const pair of [...pairs]) {
        pair.client.resetAndDestroy();
        drop(pair);
      }
    },
    /** Forwards again, delivering first what a pause held. */
    resume() {
      mode = 'forwarding';
      for (const pair of pairs) flush(pair);
    },
    connections: () => pairs.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) drop(pair);
        server.close(() => resolve());
      }),
  };
}
