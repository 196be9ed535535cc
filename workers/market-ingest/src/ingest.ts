import { createHash } from 'node:crypto';
import { batchGet, batchWrite, type Dynamo } from '@analytica/dynamo';
import { encodeEvent, type BusMessage, type EventBus } from '@analytica/events';
import type { Instrument, Region } from '@analytica/instruments';
import type { Logger } from '@analytica/logger';
import {
  alertIndexKey,
  ALERTS_VERSION_KEY,
  crossedAlerts,
  decodeQuote,
  decodeRules,
  encodeQuote,
  markTriggered,
  moversKey,
  quoteChannel,
  quoteKey,
  quoteMessage,
  toQuote,
  type AlertRule,
  type StoredQuote,
} from '@analytica/market-subgraph/store';
import type { Redis } from '@analytica/redis';
import { createSlotWalker, emptyEntry, entryId, isDirty, mergeTrade, type CandleEntry } from './candle-state.js';
import { applyTick } from './quote-state.js';
import type { FiredAlert } from './live.js';
import type { Tick } from './ticks.js';

/**
 * Writes a quote only if Redis still holds the sequence this worker based it on, then publishes
 * it; one script, so the check, the write and the message are one step. A different sequence
 * means another writer (a consumer that took over the partition) got there first: 0.
 */
const QUOTE_WRITE_LUA = `
local current = redis.call('HGET', KEYS[1], 'seq')
if (current or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

interface QuoteWriter {
  marketQuoteWrite(key: string, expectedSeq: string, channel: string, message: string, ...fieldsAndValues: string[]): unknown;
}

/**
 * Another writer changed a quote or a candle this worker holds: its cached state can no longer
 * be trusted. The consumer drops every cache and reads again from the last committed offset.
 */
export class WriterConflict extends Error {
  override name = 'WriterConflict';
}

/**
 * Some candles a flush should write are still being read from DynamoDB: nothing was written and
 * the flush is tried again later (the consumer commits nothing meanwhile).
 */
export class CandlesUnread extends Error {
  override name = 'CandlesUnread';
}

/** How long a flush waits for candle reads under way before it gives up until the next one. */
const READ_WAIT_MS = 5000;

/** The caches were dropped while a batch was in flight; its results must not be acknowledged. */
export class BatchAbandoned extends Error {
  override name = 'BatchAbandoned';
}

export interface IngestDeps {
  redis: Redis;
  dynamo: Dynamo;
  tables: { candles: string; priceAlerts: string };
  bus: EventBus;
  instruments: ReadonlyMap<string, Instrument>;
  /** REDIS_KEY_PREFIX: ioredis prefixes keys, not pub/sub channels. */
  channelPrefix: string;
  logger: Logger;
  observe?: (stage: 'load' | 'alerts' | 'redis' | 'candles', seconds: number) => void;
  /**
   * Live events (live.ts): the alerts a batch fired, after their Kafka events left (it runs beside
   * the quote write and is awaited before the batch ends; it never throws), and the regions whose
   * movers a batch wrote.
   */
  live?: {
    alertsFired(fired: readonly FiredAlert[]): Promise<void>;
    moversWritten(regions: Iterable<Region>): void;
  };
}

export interface BatchOutcome {
  applied: number;
  duplicates: number;
  alerts: number;
  /** Exchange times of the ticks that changed a quote, for the latency metric. */
  quoteTimes: number[];
}

interface CachedQuote {
  state: StoredQuote;
  /** The `seq` field Redis holds ('' for none): the next write is conditional on it. */
  stored: string;
}

const elapsed = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e9;

/**
 * The ingest engine. Quotes and candles of the symbols this worker consumes are cached between
 * batches (read once from Redis and DynamoDB, then kept); each store only ever takes a state
 * that extends the one it holds, checked by sequence. Quotes go to Redis with every batch;
 * candles stay in memory until `flushCandles` (the consumer commits offsets only after it).
 */
export function createIngest(deps: IngestDeps) {
  (deps.redis as unknown as { defineCommand(name: string, def: { numberOfKeys: number; lua: string }): void }).defineCommand('marketQuoteWrite', {
    numberOfKeys: 1,
    lua: QUOTE_WRITE_LUA,
  });
  let quotes = new Map<string, CachedQuote>();
  let candles = new Map<string, CandleEntry>();
  /** Alert rules per symbol, with the value of ALERTS_VERSION_KEY read just before them. */
  let rules = new Map<string, { version: string; list: AlertRule[] }>();
  let newestBucket = new Map<string, number>();
  /**
   * Trades waiting for their candle to be read from DynamoDB, by candle (entryId): folded in, in
   * order, once it is read. A candle is in `candles` or here, never both.
   */
  let unread = new Map<string, Tick[]>();
  /** Candle reads under way (they retry until they succeed or the caches are dropped; never reject). */
  const reads = new Set<Promise<void>>();
  let epoch = 0;
  let flushing: Promise<unknown> = Promise.resolve();

  function reset() {
    epoch++;
    quotes = new Map();
    candles = new Map();
    unread = new Map();
    newestBucket = new Map();
    rules = new Map();
  }

  async function applyTicks(ticks: readonly Tick[]): Promise<BatchOutcome> {
    const started = epoch;
    const checkEpoch = () => {
      if (epoch !== started) throw new BatchAbandoned('caches were reset while the batch was in flight');
    };
    const bySymbol = new Map<string, Tick[]>();
    for (const tick of ticks) {
      const list = bySymbol.get(tick.symbol);
      if (list) list.push(tick);
      else bySymbol.set(tick.symbol, [tick]);
    }
    for (const list of bySymbol.values()) list.sort((a, b) => a.seq - b.seq);

    let stageStart = process.hrtime.bigint();
    await loadQuotesAndRules(bySymbol);
    checkEpoch();
    deps.observe?.('load', elapsed(stageStart));

    // Quotes are worked on copies, taken into the cache only once Redis has them: a batch that fails
    // comes again and must find them as they were.
    const outcome: BatchOutcome = { applied: 0, duplicates: 0, alerts: 0, quoteTimes: [] };
    const changed: { instrument: Instrument; next: StoredQuote; stored: string }[] = [];
    const fired: { rule: AlertRule; tick: Tick }[] = [];
    for (const [symbol, list] of bySymbol) {
      const instrument = deps.instruments.get(symbol)!;
      const cached = quotes.get(symbol)!;
      const next = { ...cached.state };
      const symbolRules = rules.get(symbol)?.list ?? [];
      let touched = false;
      for (const tick of list) {
        const previous = next.last;
        if (!applyTick(next, tick)) {
          outcome.duplicates++;
          continue;
        }
        touched = true;
        outcome.applied++;
        outcome.quoteTimes.push(tick.timeMs);
        if (tick.size > 0 && symbolRules.length) {
          for (const rule of crossedAlerts(symbolRules, previous, tick.last)) fired.push({ rule, tick });
        }
      }
      if (touched) changed.push({ instrument, next, stored: cached.stored });
    }

    stageStart = process.hrtime.bigint();
    // Alerts leave before the quote is written: a crash in between repeats an alert (same event id,
    // so the notifications consumer drops it) rather than losing one.
    let liveAlerts: Promise<void> | undefined;
    if (fired.length) {
      await deps.bus.publish(
        'market.price-alert.v1',
        fired.map(({ rule, tick }) => alertMessage(rule, tick)),
      );
      outcome.alerts = fired.length;
      liveAlerts = deps.live?.alertsFired(fired);
    }
    deps.observe?.('alerts', elapsed(stageStart));
    checkEpoch();

    stageStart = process.hrtime.bigint();
    if (changed.length) await writeQuotes(changed);
    deps.observe?.('redis', elapsed(stageStart));
    checkEpoch();
    for (const { instrument, next } of changed) quotes.set(instrument.symbol, { state: next, stored: String(next.seq) });

    foldIntoCandles(bySymbol);

    if (fired.length) {
      await Promise.all(
        fired.map(({ rule, tick }) =>
          markTriggered(deps.dynamo, deps.tables.priceAlerts, rule, tick.exchangeTime, tick.last).catch((err: unknown) =>
            deps.logger.warn({ err, alertId: rule.alertId }, 'could not record an alert firing'),
          ),
        ),
      );
    }
    await liveAlerts;
    return outcome;
  }

  /**
   * One pipeline: the alerts version, then the quote states missing from the cache and the alerts
   * of symbols not cached (everything read after the version is at least as new as it). Cached
   * alerts read under another version are read again, in a second round trip: only after an
   * alert was created or deleted somewhere.
   */
  async function loadQuotesAndRules(bySymbol: Map<string, Tick[]>) {
    const read = async (symbols: string[], withQuotes: boolean) => {
      const pipeline = deps.redis.pipeline();
      pipeline.get(ALERTS_VERSION_KEY);
      const reads: { symbol: string; kind: 'quote' | 'rules' }[] = [];
      for (const symbol of symbols) {
        const { region } = deps.instruments.get(symbol)!;
        if (withQuotes && !quotes.has(symbol)) {
          pipeline.hgetall(quoteKey(region, symbol));
          reads.push({ symbol, kind: 'quote' });
        }
        if (!withQuotes || !rules.has(symbol)) {
          pipeline.hgetall(alertIndexKey(region, symbol));
          reads.push({ symbol, kind: 'rules' });
        }
      }
      const results = (await pipeline.exec()) ?? [];
      for (const [error] of results) if (error) throw error;
      const version = (results[0]?.[1] as string | null) ?? '';
      reads.forEach(({ symbol, kind }, n) => {
        const fields = results[n + 1]![1] as Record<string, string>;
        if (kind === 'rules') rules.set(symbol, { version, list: decodeRules(fields) });
        else if (!quotes.has(symbol)) quotes.set(symbol, { state: decodeQuote(deps.instruments.get(symbol)!, fields), stored: fields.seq ?? '' });
      });
      return version;
    };
    const version = await read([...bySymbol.keys()], true);
    const outdated = [...bySymbol.keys()].filter((symbol) => rules.get(symbol)?.version !== version);
    if (outdated.length) await read(outdated, false);
  }

  /**
   * Folds a batch's trades into their candles. A candle not in the cache is read from DynamoDB in
   * the background (one batch read for all of the batch's missing candles), and its trades wait
   * in `unread` until it is there: the batch does not wait for DynamoDB, so the next batch's quotes
   * are not held up by a slow read (at every new minute each symbol starts new candles, and a read
   * that takes the DynamoDB client's whole budget, 3 attempts of 2 s, would stop every quote of
   * the partition for over 6 s). A batch that comes again finds its trades counted and skips them (by sequence).
   */
  function foldIntoCandles(bySymbol: Map<string, Tick[]>) {
    const toRead = new Map<string, { pk: string; bucket: number }>();
    const slotOf = (pk: string, bucket: number): CandleEntry | Tick[] => {
      if (bucket > (newestBucket.get(pk) ?? -Infinity)) newestBucket.set(pk, bucket);
      const id = entryId(pk, bucket);
      const slot = candles.get(id) ?? unread.get(id);
      if (slot) return slot;
      const waiting: Tick[] = [];
      unread.set(id, waiting);
      toRead.set(id, { pk, bucket });
      return waiting;
    };
    for (const list of bySymbol.values()) {
      const slotsOf = createSlotWalker(list[0]!, slotOf);
      for (const tick of list) {
        if (tick.size === 0) continue;
        for (const slot of slotsOf(tick)) {
          if (Array.isArray(slot)) slot.push(tick);
          else mergeTrade(slot, tick);
        }
      }
    }
    if (toRead.size) readCandles(toRead);
  }

  /** Reads candles into the cache, retrying with backoff until it succeeds or the caches are dropped. */
  function readCandles(slots: Map<string, { pk: string; bucket: number }>) {
    const map = candles;
    const waiting = unread;
    const started = process.hrtime.bigint();
    const read = (async () => {
      let items: Awaited<ReturnType<typeof batchGet>> | undefined;
      for (let attempt = 0; map === candles; attempt++) {
        try {
          items = await batchGet(deps.dynamo, deps.tables.candles, [...slots.values()]);
          break;
        } catch (err) {
          if (attempt === 0) deps.logger.warn({ err, candles: slots.size }, 'cannot read candles; quotes go on, their trades wait and the read is tried again');
          await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 5000)));
        }
      }
      if (!items || map !== candles) return; // dropped meanwhile: the ticks are read again
      const stored = new Map(items.map((item) => [entryId(item.pk as string, Number(item.bucket)), item as unknown as CandleEntry]));
      for (const [id, { pk, bucket }] of slots) {
        const item = stored.get(id);
        const lastSeq = Number(item?.lastSeq);
        const entry = item ? { ...item, bucket: Number(item.bucket), lastSeq, storedSeq: lastSeq } : emptyEntry(pk, bucket);
        for (const tick of waiting.get(id) ?? []) mergeTrade(entry, tick);
        waiting.delete(id);
        map.set(id, entry);
      }
      deps.observe?.('candles', elapsed(started));
    })();
    reads.add(read);
    void read.finally(() => reads.delete(read));
  }

  /** True once every candle read under way has finished, false if some are still going after `ms`. */
  async function readsDone(ms: number): Promise<boolean> {
    if (reads.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    try {
      return await Promise.race([Promise.all([...reads]).then(() => true as const), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function writeQuotes(changed: { instrument: Instrument; next: StoredQuote; stored: string }[]) {
    const pipeline = deps.redis.pipeline();
    const movers = new Map<Region, (string | number)[]>();
    for (const { instrument, next, stored } of changed) {
      const hash = encodeQuote(next);
      const message = quoteMessage(toQuote(instrument, next));
      (pipeline as unknown as QuoteWriter).marketQuoteWrite(
        quoteKey(instrument.region, instrument.symbol),
        stored,
        deps.channelPrefix + quoteChannel(instrument.symbol),
        message,
        ...Object.entries(hash).flat(),
      );
      const members = movers.get(instrument.region) ?? [];
      members.push(Number(hash.changePercent), instrument.symbol);
      movers.set(instrument.region, members);
    }
    for (const [region, members] of movers) pipeline.zadd(moversKey(region), ...members);
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
    const refused = changed.filter((_, n) => results[n]?.[1] === 0).map((c) => c.instrument.symbol);
    if (refused.length) throw new WriterConflict(`another writer changed the quotes of ${refused.slice(0, 5).join(', ')}`);
    deps.live?.moversWritten(movers.keys());
  }

  /**
   * Writes every candle that moved since its last write, then forgets clean candles of buckets
   * that are over. Flushes run one at a time (two at once would race on the same check).
   *
   * Batched, not one conditional put per candle: 200 symbols make 800 candles a flush, and 800
   * PutItem calls cost this process about a second of CPU (the SDK's work per request) and held
   * up the quotes behind them; BatchGetItem + BatchWriteItem do the same in 40 requests. Batch
   * writes take no condition, so the check that no other writer moved a candle since this worker
   * read or wrote it comes first, as a consistent read of every `lastSeq` about to be replaced.
   * Another writer exists only around a rebalance (both members briefly think they hold a
   * partition); one that moved a candle before the check makes the flush fail with WriterConflict
   * and the caches drop, as a refused conditional put did. Between the check and the write is a
   * window of milliseconds, where a conditional put had none: a late write of the old owner there
   * would leave a candle short of some ticks until its owner writes it again (open candles at the
   * next flush), never counted twice.
   */
  function flushCandles(): Promise<number> {
    const run = flushing.then(() => writeDirtyCandles());
    flushing = run.catch(() => {});
    return run;
  }

  async function writeDirtyCandles(): Promise<number> {
    // Trades still waiting for their candle are in no candle yet: the offsets this flush is to
    // commit may cover them, so nothing is written (or committed) until every read is done.
    if (!(await readsDone(READ_WAIT_MS))) throw new CandlesUnread(`${unread.size} candle(s) still being read from DynamoDB`);
    const map = candles;
    const dirty = [...map.values()].filter(isDirty).map((entry) => ({ entry, snapshot: { ...entry } }));
    if (dirty.length) {
      const stored = await batchGet(
        deps.dynamo,
        deps.tables.candles,
        dirty.map(({ entry }) => ({ pk: entry.pk, bucket: entry.bucket })),
      );
      const held = new Map(stored.map((item) => [entryId(item.pk as string, Number(item.bucket)), Number(item.lastSeq)]));
      const conflicts = dirty.filter(({ snapshot }) => (held.get(entryId(snapshot.pk, snapshot.bucket)) ?? null) !== snapshot.storedSeq).length;
      if (conflicts) throw new WriterConflict(`another writer changed ${conflicts} candle(s)`);
      await batchWrite(
        deps.dynamo,
        deps.tables.candles,
        dirty.map(({ snapshot: { storedSeq: _stored, ...item } }) => ({ PutRequest: { Item: item } })),
      );
      for (const { entry, snapshot } of dirty) entry.storedSeq = snapshot.lastSeq;
    }
    for (const [id, entry] of map) {
      if (!isDirty(entry) && entry.bucket < (newestBucket.get(entry.pk) ?? -Infinity)) map.delete(id);
    }
    return dirty.length;
  }

  return {
    applyTicks,
    flushCandles,
    reset,
    /** Changes with every reset: work begun under an older epoch must not be acknowledged. */
    epoch: () => epoch,
    /** Candles waiting for the next flush. */
    pendingCandles: () => [...candles.values()].filter(isDirty).length,
  };
}
export type Ingest = ReturnType<typeof createIngest>;

/**
 * The alert's event. Its id is derived from the alert and the tick that crossed, so a crossing
 * seen twice (a redelivery after a crash) carries the same id and is applied once downstream.
 */
export function alertMessage(rule: AlertRule, tick: Tick): BusMessage {
  return encodeEvent(
    'market.price-alert.v1',
    rule.userId,
    {
      userId: rule.userId,
      alertId: rule.alertId,
      symbol: tick.symbol,
      direction: rule.direction,
      threshold: rule.threshold,
      price: tick.last,
      triggeredAt: tick.exchangeTime,
    },
    uuidFrom(`${rule.alertId}:${tick.seq}`),
  );
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
