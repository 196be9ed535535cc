import { BigIntType, EntitySchema } from '@mikro-orm/core';

export const RULE_FIELDS = ['PAYEE', 'NOTES', 'PAYEE_OR_NOTES'] as const;
export type RuleField = (typeof RULE_FIELDS)[number];
export const RULE_OPERATORS = ['CONTAINS', 'REGEX'] as const;
export type RuleOperator = (typeof RULE_OPERATORS)[number];

/**
 * "When the payee (or notes) contains / matches this, and the amount is in this range, use this
 * category." Rules run in the user's order; the first that matches wins. The matching itself is the
 * SQL function rule_matches (see migrations), so one definition serves single writes and imports.
 */
export class RuleRecord {
  id!: string;
  userId!: string;
  position!: number;
  field!: RuleField;
  operator!: RuleOperator;
  pattern!: string;
  /** Set exactly when an amount bound is: bounds are minor units of this currency. */
  currency: string | null = null;
  minAmount: number | null = null;
  maxAmount: number | null = null;
  categoryId!: string;
  createdAt!: Date;
}
export const RuleSchema = new EntitySchema<RuleRecord>({
  class: RuleRecord,
  tableName: 'rules',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    position: { type: 'integer' },
    field: { type: 'string', fieldName: 'match_field' },
    operator: { type: 'string', fieldName: 'match_operator' },
    pattern: { type: 'string' },
    currency: { type: 'string', nullable: true },
    minAmount: { type: new BigIntType('number'), fieldName: 'min_amount', nullable: true },
    maxAmount: { type: new BigIntType('number'), fieldName: 'max_amount', nullable: true },
    categoryId: { type: 'uuid', fieldName: 'category_id' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
  },
});
