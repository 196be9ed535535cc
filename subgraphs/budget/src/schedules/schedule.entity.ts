import { ArrayType, BigIntType, EntitySchema } from '@mikro-orm/core';

export const FREQUENCIES = ['WEEKLY', 'MONTHLY', 'YEARLY'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/**
 * A recurring transaction. Occurrence n falls n weeks, months or years after `startsOn`; months and
 * years are counted from the start day, so a schedule on the 31st posts on the last day of shorter
 * months and on the 31st again when there is one (and 29 February on the 28th in other years).
 */
export class ScheduleRecord {
  id!: string;
  userId!: string;
  accountId!: string;
  categoryId: string | null = null;
  amount!: number;
  currency!: string;
  payee!: string;
  notes: string | null = null;
  tags: string[] = [];
  frequency!: Frequency;
  startsOn!: string;
  endsOn: string | null = null;
  /** Which occurrence comes next (0 is startsOn). */
  nextIndex!: number;
  /** Null once the schedule has ended. */
  nextOn: string | null = null;
  /** Posted by the service when due; otherwise due occurrences wait for approval. */
  autoPost!: boolean;
  version!: number;
  createdAt!: Date;
}
export const ScheduleSchema = new EntitySchema<ScheduleRecord>({
  class: ScheduleRecord,
  tableName: 'schedules',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    accountId: { type: 'uuid', fieldName: 'account_id' },
    categoryId: { type: 'uuid', fieldName: 'category_id', nullable: true },
    amount: { type: new BigIntType('number') },
    currency: { type: 'string' },
    payee: { type: 'string' },
    notes: { type: 'text', nullable: true },
    tags: { type: new ArrayType(), columnType: 'text[]' },
    frequency: { type: 'string' },
    startsOn: { type: 'string', columnType: 'date', fieldName: 'starts_on' },
    endsOn: { type: 'string', columnType: 'date', fieldName: 'ends_on', nullable: true },
    nextIndex: { type: 'integer', fieldName: 'next_index' },
    nextOn: { type: 'string', columnType: 'date', fieldName: 'next_on', nullable: true },
    autoPost: { type: 'boolean', fieldName: 'auto_post' },
    version: { type: 'integer', version: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});
