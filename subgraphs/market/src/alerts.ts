import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import type { Redis } from '@analytica/redis';
import type { Instrument, Region } from './instruments.js';

export const ALERT_DIRECTIONS = ['ABOVE', 'BELOW'] as const;
export type AlertDirection = (typeof ALERT_DIRECTIONS)[number];
export const MAX_ALERTS_PER_USER = 50;
const MAX_THRESHOLD = 1_000_000_000;

/**
 * A user's price alerts, keyed by user so that listing and ownership checks are one Query. This
 * table is the record; the ingest worker finds alerts by symbol in the Redis index below.
 */
export function priceAlertsTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'userId', AttributeType: 'S' },
      { AttributeName: 'alertId', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'userId', KeyType: 'HASH' },
      { AttributeName: 'alertId', KeyType: 'RANGE' },
    ],
  };
}

export interface PriceAlert {
  userId: string;
  alertId: string;
  symbol: string;
  region: Region;
  direction: AlertDirection;
  threshold: number;
  createdAt: string;
  lastTriggeredAt?: string;
  lastTriggeredPrice?: number;
}

/** What the ingest worker needs to decide whether a tick fires an alert. */
export interface AlertRule {
  alertId: string;
  userId: string;
  direction: AlertDirection;
  threshold: number;
}

/**
 * `alerts:{US:AAPL}`: a hash of alertId → rule for one symbol. Same hash tag as the symbol's quote,
 * so on Redis Cluster a symbol's quote and alerts share a slot; the worker reads a symbol's alerts
 * in one HGETALL, whatever the number of users.
 */
export const alertIndexKey = (region: Region, symbol: string) => `alerts:{${region}:${symbol}}`;

/**
 * Counts changes to the index (incremented after each one). The worker keeps the rules it read and
 * reads this one key per batch: a new value means some symbol's alerts changed, and it reads again.
 */
export const ALERTS_VERSION_KEY = 'alerts:version';

const encodeRule = (alert: PriceAlert) => JSON.stringify({ userId: alert.userId, direction: alert.direction, threshold: alert.threshold });

/** The rules of one symbol's index hash; an entry that does not parse is skipped, never fatal for the feed. */
export function decodeRules(hash: Record<string, string>): AlertRule[] {
  const rules: AlertRule[] = [];
  for (const [alertId, value] of Object.entries(hash)) {
    try {
      const rule = JSON.parse(value) as Omit<AlertRule, 'alertId'>;
      if ((rule.direction === 'ABOVE' || rule.direction === 'BELOW') && Number.isFinite(rule.threshold) && rule.userId) {
        rules.push({ alertId, userId: rule.userId, direction: rule.direction, threshold: rule.threshold });
      }
    } catch {
      // skipped: see above
    }
  }
  return rules;
}

/**
 * The alerts a price move crosses. ABOVE fires when the price goes from below the threshold to at
 * or above it, BELOW the other way round; staying on one side never fires again, so an alert fires
 * once per crossing and is armed again by the price coming back. An alert created while the price
 * is already beyond its threshold waits for the next crossing.
 */
export function crossedAlerts(rules: readonly AlertRule[], previous: number, price: number): AlertRule[] {
  return rules.filter((rule) =>
    rule.direction === 'ABOVE' ? previous < rule.threshold && price >= rule.threshold : previous > rule.threshold && price <= rule.threshold,
  );
}

export interface AlertStore {
  dynamo: Dynamo;
  table: string;
  redis: Redis;
}

export async function listAlerts(store: AlertStore, userId: string): Promise<PriceAlert[]> {
  const alerts: PriceAlert[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.dynamo.doc.send(
      new QueryCommand({
        TableName: store.table,
        KeyConditionExpression: 'userId = :userId',
        ExpressionAttributeValues: { ':userId': userId },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    alerts.push(...((page.Items ?? []) as PriceAlert[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return alerts.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.alertId.localeCompare(b.alertId));
}

export function checkThreshold(threshold: number, field: string) {
  if (!Number.isFinite(threshold) || threshold <= 0 || threshold > MAX_THRESHOLD) {
    throw badInput(field, `The threshold must be a price above 0 and at most ${MAX_THRESHOLD}, in the instrument's currency.`);
  }
}

/**
 * Stores the alert, then indexes it for the worker. If the index write fails the record is
 * removed again, so that no alert is listed that would never fire.
 */
export async function createAlert(
  store: AlertStore,
  userId: string,
  instrument: Instrument,
  direction: AlertDirection,
  threshold: number,
): Promise<PriceAlert> {
  if ((await listAlerts(store, userId)).length >= MAX_ALERTS_PER_USER) {
    throw badInput('input', `You can keep at most ${MAX_ALERTS_PER_USER} price alerts; delete one first.`);
  }
  const alert: PriceAlert = {
    userId,
    alertId: randomUUID(),
    symbol: instrument.symbol,
    region: instrument.region,
    direction,
    threshold,
    createdAt: new Date().toISOString(),
  };
  await store.dynamo.doc.send(new PutCommand({ TableName: store.table, Item: alert }));
  try {
    await store.redis.hset(alertIndexKey(alert.region, alert.symbol), alert.alertId, encodeRule(alert));
    await store.redis.incr(ALERTS_VERSION_KEY);
  } catch (error) {
    await store.dynamo.doc.send(new DeleteCommand({ TableName: store.table, Key: { userId, alertId: alert.alertId } }));
    throw error;
  }
  return alert;
}

/**
 * Unindexes first (it stops firing), then deletes the record. Answers whether the caller had an
 * alert with this id: another user's alert is as absent as one that never existed.
 */
export async function deleteAlert(store: AlertStore, userId: string, alertId: string): Promise<PriceAlert | undefined> {
  const found = await store.dynamo.doc.send(new GetCommand({ TableName: store.table, Key: { userId, alertId }, ConsistentRead: true }));
  const alert = found.Item as PriceAlert | undefined;
  if (!alert) return undefined;
  await store.redis.hdel(alertIndexKey(alert.region, alert.symbol), alert.alertId);
  await store.redis.incr(ALERTS_VERSION_KEY);
  await store.dynamo.doc.send(new DeleteCommand({ TableName: store.table, Key: { userId, alertId } }));
  return alert;
}

/**
 * Puts every stored alert into the Redis index (idempotent). Run at start, so that alerts keep
 * firing after Redis lost its data; the cost is one scan of the alerts, fine at this size (a large
 * deployment would follow the table's change stream instead).
 */
export async function syncAlertIndex(store: AlertStore): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await store.dynamo.doc.send(new ScanCommand({ TableName: store.table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    const items = (page.Items ?? []) as PriceAlert[];
    if (items.length) {
      const pipeline = store.redis.pipeline();
      for (const alert of items) pipeline.hset(alertIndexKey(alert.region, alert.symbol), alert.alertId, encodeRule(alert));
      pipeline.incr(ALERTS_VERSION_KEY);
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
      count += items.length;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

/** Records the latest firing on the alert (the worker calls this); a deleted alert stays deleted. */
export async function markTriggered(dynamo: Dynamo, table: string, rule: AlertRule, at: string, price: number): Promise<void> {
  try {
    await dynamo.doc.send(
      new UpdateCommand({
        TableName: table,
        Key: { userId: rule.userId, alertId: rule.alertId },
        UpdateExpression: 'SET lastTriggeredAt = :at, lastTriggeredPrice = :price',
        ConditionExpression: 'attribute_exists(alertId) AND (attribute_not_exists(lastTriggeredAt) OR lastTriggeredAt <= :at)',
        ExpressionAttributeValues: { ':at': at, ':price': price },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }
}

/** One firing of an alert: which alert, and the trade that crossed its threshold. */
export interface AlertFiring {
  alertId: string;
  price: number;
  /** Exchange time of the trade, ISO 8601 UTC. */
  triggeredAt: string;
}

/**
 * The key of a PriceAlertTrigger: the firing itself, encoded, so that the market subgraph can
 * answer any field of it (the alert, its instrument, the quote) from the key alone, checked
 * against the caller like any alert. The same crossing always gives the same id.
 */
export const priceAlertTriggerId = (firing: AlertFiring) => Buffer.from(JSON.stringify([firing.alertId, firing.price, firing.triggeredAt])).toString('base64url');

/** The firing a PriceAlertTrigger id names, or undefined when it is not one. */
export function decodePriceAlertTriggerId(id: string): AlertFiring | undefined {
  try {
    const [alertId, price, triggeredAt] = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as unknown[];
    if (typeof alertId !== 'string' || alertId.length > 100 || typeof price !== 'number' || !(price > 0) || typeof triggeredAt !== 'string') return undefined;
    if (Number.isNaN(Date.parse(triggeredAt))) return undefined;
    return { alertId, price, triggeredAt: new Date(triggeredAt).toISOString() };
  } catch {
    return undefined;
  }
}

/**
 * The live event `priceAlertTriggered` for the alert's owner (published on their caller channel):
 * the key and the firing's own fields. A subscriber who selects more (the alert, its instrument)
 * is answered by the gateway fetching the trigger from the market subgraph by its key.
 */
export function priceAlertTriggerPayload(rule: AlertRule, symbol: string, price: number, triggeredAt: string) {
  return {
    id: priceAlertTriggerId({ alertId: rule.alertId, price, triggeredAt }),
    symbol,
    direction: rule.direction,
    threshold: rule.threshold,
    price,
    triggeredAt,
  };
}
