import type { Region } from '@analytica/instruments';
import { UpdateCommand, type Dynamo } from '@analytica/dynamo';

// Price alerts at rest and on the wire. The market subgraph keeps the record (the price_alerts
// table) and indexes each alert by symbol in Redis (alertIndexKey, redis-keys.ts); the ingest
// worker reads the index, decides which trades fire, records each firing on the alert and
// publishes it live, as a trigger whose key the subgraph decodes.

export const ALERT_DIRECTIONS = ['ABOVE', 'BELOW'] as const;
export type AlertDirection = (typeof ALERT_DIRECTIONS)[number];

/**
 * A user's price alerts, keyed by user so that listing and ownership checks are one Query. This
 * table is the record; the ingest worker finds alerts by symbol in the Redis index.
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

/** One item of the price_alerts table. */
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

/** The value of an alert's entry in its symbol's index hash (the field is its alertId). */
export const encodeRule = (alert: PriceAlert) => JSON.stringify({ userId: alert.userId, direction: alert.direction, threshold: alert.threshold });

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
  return rules.filter((rule) => (rule.direction === 'ABOVE' ? previous < rule.threshold && price >= rule.threshold : previous > rule.threshold && price <= rule.threshold));
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
