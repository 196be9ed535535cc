import { randomUUID } from 'node:crypto';
import { batchWrite, DeleteCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type Dynamo } from '@analytica/dynamo';
import { contracts, encodeEvent, type EventBus, type EventPayload } from '@analytica/events';
import type { Logger } from '@analytica/logger';

export const INTERACTIONS_TOPIC = 'user.interactions.v1';
export type InteractionKind = EventPayload<typeof INTERACTIONS_TOPIC>['kind'];
export type InteractionEvent = EventPayload<typeof INTERACTIONS_TOPIC>;
type ContentType = InteractionEvent['contentType'];

/** The partition of one reader in one region: the Kafka message key and the interaction log's partition key. */
export const interactionKey = (region: string, userId: string) => `${region}#${userId}`;

/**
 * Every interaction event, kept for behaviour analytics (AP): partition `pk` = `<region>#<userId>`,
 * sort `sk` = `<contentType>#<occurredAt>#<eventId>`. The architecture's sharding (region, then
 * user, then content type) is the key itself: one reader's history of one content type, newest
 * first, is one Query (interactionHistory). Items are never changed after they are written.
 */
export function interactionLogTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
  };
}

/** The log item of one event; its key comes from the event alone, so writing it again changes nothing. */
function logItem(event: InteractionEvent, defaultRegion: string): Record<string, unknown> {
  // Events outboxed before the region existed carry none: they belong to this deployment's region.
  const region = event.region ?? defaultRegion;
  return { ...event, region, pk: interactionKey(region, event.userId), sk: `${event.contentType}#${event.occurredAt}#${event.eventId}` };
}

/** One reader's interactions with one content type, newest first (strongly consistent: an event logged a moment ago is there). */
export async function interactionHistory(dynamo: Dynamo, logTable: string, region: string, userId: string, contentType: ContentType, limit = 100): Promise<InteractionEvent[]> {
  const result = await dynamo.doc.send(
    new QueryCommand({
      TableName: logTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :type)',
      ExpressionAttributeValues: { ':pk': interactionKey(region, userId), ':type': `${contentType}#` },
      ScanIndexForward: false,
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  return (result.Items ?? []).map(({ pk: _pk, sk: _sk, ...event }) => event as InteractionEvent);
}

/**
 * The interaction events not yet on the bus: one item per event, keyed by its id. An item lives from
 * the moment the interaction is recorded until the broker acknowledged the event, so the table is
 * empty while Kafka answers and grows (and is drained afterwards) while it does not.
 */
export function interactionOutboxTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'eventId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
  };
}

export interface InteractionEvents {
  /**
   * Called after the DynamoDB write that recorded the interaction changed something: writes the
   * event to the outbox (awaited: a failure fails the mutation, which the caller sees) and asks the
   * relay to send it now. Kafka is never waited for here.
   */
  record(kind: InteractionKind, userId: string, articleId: string, dwellMs?: number): Promise<string>;
}

export interface InteractionRelayOptions {
  dynamo: Dynamo;
  outboxTable: string;
  /** The interaction log (interactionLogTable). */
  logTable: string;
  /** This deployment's region (NEWS_REGION): in every event, its key and its log item's key. */
  region: string;
  bus: EventBus;
  logger: Logger;
  /** A safety net beside the pokes: how often the outbox is scanned when nothing asked. */
  intervalMs?: number;
  /** How long a relay holds the events it took before another replica may send them (it may still be sending). */
  claimMs?: number;
  batchSize?: number;
}

/**
 * The news service's outbox for `user.interactions.v1` (DynamoDB has no transaction that spans
 * the interaction and a Kafka send, and dynalite none at all).
 *
 * Order: the conditional interaction write, then (only if it changed something) the outbox item,
 * then the relay publishes it (`acks: -1`) and deletes the item. While Kafka is down the interaction
 * is still recorded and the mutation answers at once; the items stay and the relay tries again with
 * a growing pause (up to 30 s), in the order they were recorded. Several replicas share the outbox:
 * a relay first claims an item (a conditional `claimedUntil`), so an event is sent by one of them;
 * a relay that dies after sending but before deleting sends it again after the claim ran out (at
 * least once, as every topic here: consumers deduplicate by `eventId`). Not covered: a crash or a
 * failed outbox write right after the interaction write, which loses that one event (the mutation
 * then answers an error, and the like count has the same window).
 *
 * The relay also writes each event into the interaction log, before it publishes it. Here rather
 * than beside the outbox write: the mutation keeps a single DynamoDB write (the outbox item), the
 * log is written 25 items to a BatchWriteItem, and it cannot miss an event the outbox holds. The
 * log item's key is made of the event alone (region, user, content type, occurredAt, eventId, all
 * fixed when it was recorded), so a put sent again — the next try after Kafka refused, or a relay
 * that died before deleting — overwrites the same item and never doubles it. Writing it before the
 * send keeps the log current while Kafka is down (each retry puts the same items again); a failed
 * log write is retried like a failed send, with the outbox item kept.
 */
export function startInteractionRelay(options: InteractionRelayOptions): InteractionEvents & { stop(): Promise<void> } {
  const { dynamo, outboxTable, logTable, region, bus, logger } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const claimMs = options.claimMs ?? 30_000;
  const batchSize = options.batchSize ?? 100;
  let running = true;
  let wanted = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    wanted = true;
    wake?.();
  };

  async function record(kind: InteractionKind, userId: string, articleId: string, dwellMs?: number): Promise<string> {
    const eventId = randomUUID();
    const occurredAt = new Date().toISOString();
    const message = encodeEvent(
      INTERACTIONS_TOPIC,
      interactionKey(region, userId),
      { eventId, userId, region, articleId, contentType: 'ARTICLE', kind, ...(dwellMs === undefined ? {} : { dwellMs }), occurredAt },
      eventId,
    );
    await dynamo.doc.send(
      new PutCommand({
        TableName: outboxTable,
        Item: { eventId, key: message.key, value: message.value, headers: message.headers, createdAt: occurredAt },
      }),
    );
    poke();
    return eventId;
  }

  /** Gives a claim back, unless another relay has taken the item since. */
  async function release(eventId: string, until: number): Promise<void> {
    await dynamo.doc.send(
      new UpdateCommand({
        TableName: outboxTable,
        Key: { eventId },
        UpdateExpression: 'REMOVE claimedUntil',
        ConditionExpression: 'claimedUntil = :until',
        ExpressionAttributeValues: { ':until': until },
      }),
    );
  }

  /** Sends what is waiting and returns how many it sent. */
  async function relayBatch(): Promise<number> {
    const now = Date.now();
    const scanned = await dynamo.doc.send(new ScanCommand({ TableName: outboxTable, ConsistentRead: true, Limit: batchSize }));
    const waiting = (scanned.Items ?? [])
      .filter((item) => !(Number(item.claimedUntil ?? 0) > now))
      .sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)) || String(a.eventId).localeCompare(String(b.eventId)));
    const claimed: Record<string, unknown>[] = [];
    for (const item of waiting) {
      try {
        await dynamo.doc.send(
          new UpdateCommand({
            TableName: outboxTable,
            Key: { eventId: item.eventId },
            UpdateExpression: 'SET claimedUntil = :until',
            ConditionExpression: 'attribute_exists(eventId) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
            ExpressionAttributeValues: { ':until': now + claimMs, ':now': now },
          }),
        );
        claimed.push(item);
      } catch (error) {
        // Another replica took it (or sent and deleted it) meanwhile.
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      }
    }
    if (claimed.length === 0) return 0;
    try {
      await batchWrite(
        dynamo,
        logTable,
        claimed.map((item) => ({ PutRequest: { Item: logItem(contracts[INTERACTIONS_TOPIC].parse(JSON.parse(String(item.value))), region) } })),
      );
      await bus.publish(
        INTERACTIONS_TOPIC,
        claimed.map((item) => ({ key: String(item.key), value: String(item.value), headers: item.headers as Record<string, string> })),
      );
    } catch (error) {
      // Given back at once, so that the next try (here or in another replica) need not wait for the claim to run out.
      await Promise.allSettled(claimed.map((item) => release(String(item.eventId), now + claimMs)));
      throw error;
    }
    for (const item of claimed) {
      await dynamo.doc.send(new DeleteCommand({ TableName: outboxTable, Key: { eventId: item.eventId } }));
    }
    // A full page may have more behind it.
    if ((scanned.Items?.length ?? 0) >= batchSize || scanned.LastEvaluatedKey) wanted = true;
    return claimed.length;
  }

  let failures = 0;
  let stopNow: (() => void) | undefined;
  const done = (async () => {
    while (running) {
      wanted = false;
      try {
        await relayBatch();
        failures = 0;
      } catch (error) {
        failures++;
        logger.warn({ err: error, failures }, 'interaction events could not be relayed; they stay in the outbox and are tried again');
      }
      if (!running) break;
      if (wanted && failures === 0) continue;
      const pause = failures === 0 ? intervalMs : Math.min(30_000, 500 * 2 ** Math.min(failures - 1, 6));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        const now = () => {
          clearTimeout(timer);
          resolve();
        };
        // A poke cuts an idle wait short, not the back-off after a failure (stop() does both).
        wake = failures === 0 ? now : undefined;
        stopNow = now;
        if (wanted && failures === 0) now();
      });
      wake = undefined;
    }
  })();

  return {
    record,
    async stop() {
      running = false;
      stopNow?.();
      await done;
    },
  };
}
