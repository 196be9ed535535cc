import { randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, queryPartition, ScanCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import type { Instrument } from '@analytica/instruments';
import type { Redis } from '@analytica/redis';
import { encodeRule, type AlertDirection, type PriceAlert } from '../store/alerts.js';
import { alertIndexKey, ALERTS_VERSION_KEY } from '../store/redis-keys.js';

// A user's price alerts: the record in DynamoDB, indexed by symbol in Redis for the ingest worker
// (which fires them: store/alerts.ts).

export const MAX_ALERTS_PER_USER = 50;
const MAX_THRESHOLD = 1_000_000_000;

export interface AlertStore {
  dynamo: Dynamo;
  table: string;
  redis: Redis;
}

export async function listAlerts(store: AlertStore, userId: string): Promise<PriceAlert[]> {
  const alerts = await queryPartition<PriceAlert>(store.dynamo, store.table, 'userId', userId);
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
export async function createAlert(store: AlertStore, userId: string, instrument: Instrument, direction: AlertDirection, threshold: number): Promise<PriceAlert> {
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
