// Messages between the bench (parent) and the load generator (a separate process, so that the
// clients' CPU is not the bench's and can be measured on its own).

/** What the load generator opens: one WebSocket per client, one user per client, one subscription each. */
export interface LoadPlan {
  /** ws://127.0.0.1:<port>/graphql */
  url: string;
  /** One access token per client, each of a different user. */
  tokens: string[];
  /** The symbols the feed trades; symbolSets index into it. */
  symbols: string[];
  /** Per client, the symbols (indexes) it subscribes to. */
  symbolSets: number[][];
  /** The subscription document; its one variable is `$symbols`. */
  query: string;
  /** Connections started per second, on a fixed schedule whatever the gateway answers (open loop). */
  rampPerSecond: number;
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
  query: string;
}

export type ToLoad =
  | { type: 'open'; plan: LoadPlan }
  /** Open no more connections: the run goes on with the clients connected so far. */
  | { type: 'stop-ramp' }
  /**
   * Count, from now on, every `next` whose Quote.time is in [from, to) (ms since the epoch),
   * whenever it arrives, until `measure-report`.
   */
  | { type: 'measure-start'; from: number; to: number }
  /** The feed's ticks per symbol in [from, to): the load generator works out each client's share. */
  | { type: 'measure-report'; feedTicks: number[]; ingestPublished: number[] }
  /**
   * A fresh access token per client (same order as the plan's, same users), sent over each open
   * socket as a client renews its session: `{"type":"ping","payload":{"authorization":...}}`.
   */
  | { type: 'renew'; tokens: string[] }
  | { type: 'slow-open'; plan: SlowPlan }
  | { type: 'slow-resume' }
  | { type: 'close' };

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

export interface ConnectionStats {
  /** Connections tried; fewer than planned when the ramp was cut short at its deadline. */
  attempted: number;
  acked: number;
  /** Clients whose subscription was sent on an acknowledged connection and not refused. */
  subscribed: number;
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
  /** Connections the ramp opened later than scheduled by more than 100 ms (the meter fell behind). */
  openedLate: number;
  /** From the scheduled start of a connection to its connection_ack (ms). */
  ackMs: LatencySummary;
  /** From sending `subscribe` to the first `next` of that subscription (ms). */
  firstValueMs: LatencySummary;
}

export interface WindowReport {
  /** [from, to) in ms since the epoch, and the seconds the report waited for stragglers after `to`. */
  from: number;
  to: number;
  graceSeconds: number;
  /** `next` messages whose Quote.time is in the window, per symbol (same order as the plan's symbols). */
  receivedPerSymbol: number[];
  /** Clients subscribed to each symbol when the window opened. */
  subscribersPerSymbol: number[];
  /** Σ feed ticks of each client's symbols, over the clients subscribed when the window opened. */
  expectedFromFeed: number;
  /** The same against what market-ingest published. */
  expectedFromIngest: number;
  delivered: number;
  /** From Quote.time (the feed's exchange time) to receipt, over every message in the window. */
  latencyMs: LatencySummary;
  /** Messages in the window that carried GraphQL errors, and those whose latestHeadline was null. */
  messagesWithErrors: number;
  nullHeadlines: number;
  /** `next` messages stamped before the window that arrived during it (e.g. a late backlog). */
  staleArrivals: number;
  /** Messages repeating a tick the client already had (a new headline on the same quote): neither delivered nor timed. */
  repeats: number;
  /** Subscribed clients that received fewer messages than the feed made ticks for their symbols / none. */
  clientsShort: number;
  silentClients: number;
  /** Connections lost between the window's start and the report. */
  lostInWindow: number;
  /** The load generator's own event-loop delay: is the meter the bottleneck? */
  loadLoopDelayP99Ms: number;
  /** Per second of the window, by Quote.time: the slowest message, those over 250 ms, and all. */
  perSecond: { max: number; overAim: number; count: number }[];
  /** The slowest ticks over 250 ms: how many of the symbol's subscribers got it late, and the latest. */
  lateTicks: { symbol: string; time: string; messages: number; max: number; subscribers: number }[];
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
  /** After `renew`: sockets that were sent a new token, and the gateway's answers (its pong's `renewed`). */
  | { type: 'renewed'; sent: number; renewed: number; refused: number; firstRefusal?: string }
  | ({ type: 'slow' } & SlowEvent)
  | { type: 'closed' };
