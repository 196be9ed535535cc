import { BigIntType, EntitySchema } from '@mikro-orm/core';

export const BUDGET_PERIODS = ['MONTHLY', 'WEEKLY'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

/** What of a period's remainder moves into the next period's budget of the same category. */
export const ROLLOVERS = ['NONE', 'LEFTOVER', 'LEFTOVER_AND_OVERSPENDING'] as const;
export type Rollover = (typeof ROLLOVERS)[number];

export class BudgetRecord {
  id!: string;
  userId!: string;
  categoryId!: string;
  period!: BudgetPeriod;
  /** Minor units, always positive: the most the category may spend in the period. */
  amount!: number;
  currency!: string;
  /** YYYY-MM-DD: the first of the month, or the Monday of the week (UTC). */
  startsOn!: string;
  rollover: Rollover = 'NONE';
  /** Whether spending was above the amount when last reviewed: the state that makes each crossing one event. */
  overspent = false;
  createdAt!: Date;
  updatedAt!: Date;
}
export const BudgetSchema = new EntitySchema<BudgetRecord>({
  class: BudgetRecord,
  tableName: 'budgets',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    categoryId: { type: 'uuid', fieldName: 'category_id' },
    period: { type: 'string' },
    amount: { type: new BigIntType('number') },
    currency: { type: 'string' },
    startsOn: { type: 'string', columnType: 'date', fieldName: 'starts_on' },
    rollover: { type: 'string' },
    overspent: { type: 'boolean' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    updatedAt: { type: 'Date', fieldName: 'updated_at' },
  },
});
