import { BigIntType, EntitySchema } from '@mikro-orm/core';
import type { CashFlow } from '../insights/insight-rules.js';
import type { ReportPeriod } from '../periods.js';

export class ReportRecord {
  id!: string;
  userId!: string;
  period!: ReportPeriod;
  /** YYYY-MM-DD: the 1st of the month or the Monday of the week. */
  startsOn!: string;
  createdAt!: Date;
  generatedAt!: Date;
}
export const ReportSchema = new EntitySchema<ReportRecord>({
  class: ReportRecord,
  tableName: 'reports',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'string', fieldName: 'user_id' },
    period: { type: 'string' },
    startsOn: { type: 'date', fieldName: 'starts_on' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    generatedAt: { type: 'Date', fieldName: 'generated_at' },
  },
});

export class ReportLineRecord {
  id!: number;
  reportId!: string;
  flow!: CashFlow;
  categoryId: string | null = null;
  currency!: string;
  totalMinor!: number;
  count!: number;
}
export const ReportLineSchema = new EntitySchema<ReportLineRecord>({
  class: ReportLineRecord,
  tableName: 'report_lines',
  properties: {
    id: { type: new BigIntType('number'), primary: true, autoincrement: true },
    reportId: { type: 'uuid', fieldName: 'report_id' },
    flow: { type: 'string' },
    categoryId: { type: 'string', fieldName: 'category_id', nullable: true },
    currency: { type: 'string' },
    totalMinor: { type: new BigIntType('number'), fieldName: 'total_minor' },
    count: { type: 'integer' },
  },
});
