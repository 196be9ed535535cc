import { EntitySchema } from '@mikro-orm/core';
import type { InsightFigures, InsightKind } from './insight-rules.js';

export class InsightRecord {
  id!: string;
  userId!: string;
  reportId: string | null = null;
  kind!: InsightKind;
  subject!: string;
  categoryId: string | null = null;
  title!: string;
  body!: string;
  createdAt!: Date;
  dismissedAt: Date | null = null;
  /** The figures it rests on; null on insights written before they were kept. */
  figures: InsightFigures | null = null;
}
export const InsightSchema = new EntitySchema<InsightRecord>({
  class: InsightRecord,
  tableName: 'insights',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'string', fieldName: 'user_id' },
    reportId: { type: 'uuid', fieldName: 'report_id', nullable: true },
    kind: { type: 'string' },
    subject: { type: 'string' },
    categoryId: { type: 'string', fieldName: 'category_id', nullable: true },
    title: { type: 'string' },
    body: { type: 'text' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    dismissedAt: { type: 'Date', fieldName: 'dismissed_at', nullable: true },
    figures: { type: 'json', nullable: true },
  },
});
