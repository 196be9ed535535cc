import { EntitySchema } from '@mikro-orm/core';

/**
 * A message that reached a payment topic's dead-letter topic, kept in PostgreSQL so that an admin
 * can read it (reason and payload) and send it back to its topic. Kafka is the source; this table
 * is the index an admin pages through and the record of what was replayed.
 */
export class DeadLetterRecord {
  id!: string;
  /** The dead-letter topic it was read from, e.g. payments.requested.v1.dlq. */
  topic!: string;
  sourceTopic: string | null = null;
  partition!: number;
  offset!: string;
  key!: string;
  value!: string;
  headers!: Record<string, string>;
  reason!: string;
  eventId: string | null = null;
  deadAt!: Date;
  replayedAt: Date | null = null;
}
export const DeadLetterSchema = new EntitySchema<DeadLetterRecord>({
  class: DeadLetterRecord,
  tableName: 'dead_letters',
  properties: {
    id: { type: 'uuid', primary: true },
    topic: { type: 'string' },
    sourceTopic: { type: 'string', fieldName: 'source_topic', nullable: true },
    partition: { type: 'integer' },
    offset: { type: 'string' },
    key: { type: 'string' },
    value: { type: 'text' },
    headers: { type: 'json' },
    reason: { type: 'text' },
    eventId: { type: 'string', fieldName: 'event_id', nullable: true },
    deadAt: { type: 'Date', fieldName: 'dead_at' },
    replayedAt: { type: 'Date', fieldName: 'replayed_at', nullable: true },
  },
});
