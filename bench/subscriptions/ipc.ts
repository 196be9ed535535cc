// Messages between the bench (parent) and the load generator (a separate process, so that the
// clients' CPU is not the bench's and can be measured on its own).

/** What the load generator opens: N clients, each on its own WebSocket with one subscription. */
export interface LoadPlan {
  /** ws://127.0.0.1:<port>/graphql */
  url: string;
  clients: number;
  /** New connections started per second (the gateway verifies a token and authorises each). */
  rampPerSecond: number;
  /** Handshakes (open but not acknowledged) allowed at once, so the ramp never piles up. */
  maxInFlight: number;
  /** A pool of access tokens; client i uses tokens[i % tokens.length]. */
  tokens: string[];
  /** The symbols the feed publishes; each client picks minSymbols..maxSymbols of them. */
  symbols: string[];
  minSymbols: number;
  maxSymbols: number;
  /** Quote fields each client selects (must include `time`: latency is measured from it). */
  selection: string;
  /** Symbols as literals in the query instead of a variable (one distinct document per set). */
  inlineArguments: boolean;
  /**
   * `quotes`: one `quotes(symbols: [...])` subscription per client (the load).
   * `quote`: one `quote(symbol: ...)` subscription per chosen symbol, same messages/s, but
   * identical operations, so the gateway can share one execution per symbol: a diagnostic.
   */
  shape: 'quotes' | 'quote';
  /** Seed for the symbol choice, so runs with the same seed subscribe to the same sets. */
  seed: number;
  /** A client not acknowledged within this time counts as "never acked". */
  ackTimeoutMs: number;
}

/**
 * One never-reading client: `subscriptions` subscriptions of `perSubscription` symbols each,
 * cycling over `symbols` (so every symbol is covered, several times over), then it pauses.
 */
export interface SlowPlan {
  url: string;
  token: string;
  symbols: string[];
  perSubscription: number;
  subscriptions: number;
  selection: string;
}

export type ToLoad =
  | { type: 'open'; plan: LoadPlan }
  /** Open no more connections: the run goes on with the clients connected so far. */
  | { type: 'stop-ramp' }
  | { type: 'measure-start' }
  | { type: 'measure-stop' }
  | { type: 'slow-open'; plan: SlowPlan }
  | { type: 'slow-resume' }
  | { type: 'close' };

export interface ConnectionStats {
  /** Connections tried; fewer than planned when the ramp was cut short at its deadline. */
  attempted: number;
  acked: number;
  /** Subscriptions sent on acknowledged connections, and the (client, symbol) pairs they cover. */
  subscribed: number;
  symbolPairs: number;
  /** Connections that never got connection_ack: refused, failed, closed or timed out first. */
  neverAcked: number;
  /** Acknowledged connections closed without the bench asking (the "lost connections"). */
  lost: number;
  /** Close codes seen on connections the bench did not close, e.g. { "1013": 2, "1006": 1 }. */
  closeCodes: Record<string, number>;
  subscribeErrors: number;
  firstSubscribeError?: string;
  /** Seconds from the first connection attempt to the last client settled. */
  rampSeconds: number;
}

export interface WindowReport {
  seconds: number;
  messages: number;
  /** (client, symbol) pairs subscribed at the end of the window: the messages/s a perfect run delivers. */
  expectedPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; count: number };
  /** `next` messages that carried GraphQL errors. */
  messagesWithErrors: number;
  /** Subscribed clients that received nothing during the window. */
  silentClients: number;
  /** Connections lost during the window (also counted in ConnectionStats.lost). */
  lostInWindow: number;
  /** The load generator's own CPU (% of one core) and event-loop delay: is the meter the bottleneck? */
  loadCpuPercent: number;
  loadLoopDelayP99Ms: number;
}

export type SlowEvent =
  | { event: 'acked'; at: number }
  | { event: 'paused'; at: number; subscriptions: number }
  | { event: 'error'; at: number; message: string }
  /** Some seconds after resuming, whether or not a close came: what had been queued for it. */
  | { event: 'drained'; at: number; bytesAfterResume: number; messagesAfterResume: number }
  | { event: 'closed'; at: number; code: number; reason: string; bytesAfterResume: number; messagesAfterResume: number };

export type FromLoad =
  | { type: 'progress'; stats: ConnectionStats }
  | { type: 'opened'; stats: ConnectionStats }
  | { type: 'window'; report: WindowReport; stats: ConnectionStats }
  | ({ type: 'slow' } & SlowEvent)
  | { type: 'closed' };
