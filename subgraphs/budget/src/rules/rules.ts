import { randomUUID } from 'node:crypto';
import { LockMode } from '@mikro-orm/core';
import { badInput, notFound } from '@analytica/errors';
import { assertCurrency, assertMinorUnits } from '@analytica/money';
import { executeWithBoundParameters, type EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound } from '@analytica/subgraph/access';
import { usableCategories } from '../categories/categories.js';
import { RULE_FIELDS, RULE_OPERATORS, RuleRecord, type RuleField, type RuleOperator } from './rule.entity.js';
import { MAX_PATTERN_LENGTH, unsafeRegexReason } from './regex-safety.js';

/** Every rule runs on every new transaction: a user keeps at most this many. */
export const MAX_RULES_PER_USER = 200;

export interface RuleDefinition {
  field: RuleField;
  operator: RuleOperator;
  pattern: string;
  minAmount?: { amountMinor: number; currency: string } | null;
  maxAmount?: { amountMinor: number; currency: string } | null;
  categoryId: string;
}

/** Checks a definition; a regular expression is compiled by PostgreSQL itself, the engine that will run it. */
async function checkDefinition(em: EntityManager, userId: string, input: RuleDefinition) {
  if (!RULE_FIELDS.includes(input.field)) throw badInput('input.field', `Use one of ${RULE_FIELDS.join(', ')}.`);
  if (!RULE_OPERATORS.includes(input.operator)) throw badInput('input.operator', `Use one of ${RULE_OPERATORS.join(', ')}.`);
  const pattern = input.operator === 'CONTAINS' ? input.pattern.trim() : input.pattern;
  if (pattern.length < 1 || pattern.length > MAX_PATTERN_LENGTH) throw badInput('input.pattern', `Give a pattern of 1 to ${MAX_PATTERN_LENGTH} characters.`);
  if (input.operator === 'REGEX') {
    // Checked before it is stored: a pattern that can make matching explode is refused (see regex-safety.ts).
    const unsafe = unsafeRegexReason(pattern);
    if (unsafe) throw badInput('input.pattern', `This regular expression cannot be used: ${unsafe}.`);
    try {
      await em.getConnection().execute("select '' ~* ? as ok", [pattern], 'all', em.getTransactionContext());
    } catch (error) {
      const reason =
        String((error as Error).message)
          .split('\n')
          .pop()
          ?.replace(/^.*invalid regular expression:\s*/i, '') ?? '';
      throw badInput('input.pattern', `"${pattern}" is not a valid regular expression (${reason.slice(0, 120)}).`);
    }
  }
  let currency: string | null = null;
  const bound = (money: RuleDefinition['minAmount'], field: string) => {
    if (!money) return null;
    const code = assertCurrency(money.currency, `${field}.currency`);
    if (currency && code !== currency) throw badInput(`${field}.currency`, 'Both bounds are in the same currency.');
    currency = code;
    return assertMinorUnits(money.amountMinor, `${field}.amountMinor`);
  };
  const minAmount = bound(input.minAmount, 'input.minAmount');
  const maxAmount = bound(input.maxAmount, 'input.maxAmount');
  if (minAmount !== null && maxAmount !== null && minAmount > maxAmount) throw badInput('input.maxAmount', 'maxAmount must be at least minAmount.');
  await usableCategories(em, userId, [{ id: input.categoryId, field: 'input.categoryId' }]);
  return { field: input.field, operator: input.operator, pattern, currency, minAmount, maxAmount, categoryId: input.categoryId };
}

/** Adds a rule after the user's others. */
export async function createRule(em: EntityManager, userId: string, input: RuleDefinition): Promise<RuleRecord> {
  return em.transactional(async (tx) => {
    const definition = await checkDefinition(tx, userId, input);
    const [row] = await tx
      .getConnection()
      .execute<{ next: number; count: number }[]>(
        'select coalesce(max(position), 0) + 1 as next, count(*)::int as count from rules where user_id = ?',
        [userId],
        'all',
        tx.getTransactionContext(),
      );
    if (Number(row?.count ?? 0) >= MAX_RULES_PER_USER) throw badInput('input', `You have ${MAX_RULES_PER_USER} rules, the most one may keep; delete one first.`);
    return tx.create(RuleRecord, { id: randomUUID(), userId, position: Number(row?.next ?? 1), ...definition, createdAt: new Date() });
  });
}

export async function updateRule(em: EntityManager, userId: string, id: string, input: RuleDefinition): Promise<RuleRecord> {
  if (!isUuid(id)) throw notFound('Rule', id, 'id');
  return em.transactional(async (tx) => {
    const rule = ownedOrNotFound(userId, await tx.findOne(RuleRecord, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE }), 'Rule', id, 'id');
    Object.assign(rule, await checkDefinition(tx, userId, input));
    return rule;
  });
}

export async function deleteRule(em: EntityManager, userId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw notFound('Rule', id, 'id');
  await em.transactional(async (tx) => {
    tx.remove(ownedOrNotFound(userId, await tx.findOne(RuleRecord, { id }), 'Rule', id, 'id'));
  });
}

/** Puts the user's rules in the order given; the list must name each of them exactly once. */
export async function reorderRules(em: EntityManager, userId: string, ids: readonly string[]): Promise<RuleRecord[]> {
  return em.transactional(async (tx) => {
    const rules = await tx.find(RuleRecord, { userId }, { lockMode: LockMode.PESSIMISTIC_WRITE, orderBy: { id: 'asc' } });
    const byId = new Map(rules.map((r) => [r.id, r]));
    const given = new Set(ids);
    if (given.size !== ids.length || ids.length !== rules.length || ids.some((id) => !byId.has(id))) {
      throw badInput('ids', `List each of your ${rules.length} rules exactly once, in the order they should run.`);
    }
    ids.forEach((id, i) => (byId.get(id)!.position = i + 1));
    return ids.map((id) => byId.get(id)!);
  });
}

const FIRST_MATCH = `select r.category_id from rules r
   join categories c on c.user_id = r.user_id and c.id = r.category_id and c.archived_at is null
  where r.user_id = ? and rule_matches(r, ?, ?, ?, ?)
  order by r.position, r.created_at, r.id limit 1`;

/** The category the user's first matching rule gives, or null. One statement. */
export async function categoryByRules(em: EntityManager, userId: string, line: { payee: string; notes: string | null; amount: number; currency: string }): Promise<string | null> {
  const rows: { category_id: string }[] = await em
    .getConnection()
    .execute(FIRST_MATCH, [userId, line.payee, line.notes, line.amount, line.currency], 'all', em.getTransactionContext());
  return rows[0]?.category_id ?? null;
}

/** The same for many lines at once (an import): one statement for the whole set, in input order. */
export async function categoriesByRules(
  em: EntityManager,
  userId: string,
  currency: string,
  lines: readonly { payee: string; notes: string | null; amount: number }[],
): Promise<(string | null)[]> {
  if (lines.length === 0) return [];
  // The lines go as one bound JSON parameter (executeWithBoundParameters): a statement's worth is megabytes.
  const rows = await executeWithBoundParameters<{ i: number; category_id: string | null }>(
    em,
    `select x.i, (select r.category_id from rules r
                    join categories c on c.user_id = r.user_id and c.id = r.category_id and c.archived_at is null
                   where r.user_id = ? and rule_matches(r, x.payee, x.notes, x.amount, ?)
                   order by r.position, r.created_at, r.id limit 1) as category_id
       from json_to_recordset(?::json) as x(i integer, payee text, notes text, amount bigint)
      where exists (select 1 from rules where user_id = ?)`,
    [userId, currency, JSON.stringify(lines.map((l, i) => ({ i, payee: l.payee, notes: l.notes, amount: l.amount }))), userId],
  );
  const categories: (string | null)[] = lines.map(() => null);
  for (const row of rows) categories[row.i] = row.category_id;
  return categories;
}
