import { randomUUID } from 'node:crypto';
import { EntitySchema } from '@mikro-orm/core';
import type { AuthUser } from '@analytica/auth';
import { notFound } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from './ids.js';
import type { DerivedInsight, InsightKind } from './insight-rules.js';

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
  },
});

/**
 * Stores what the rules found for one report. An insight found again is updated in place (a
 * dismissed one stays dismissed); an open one the rules no longer find is removed, so that a
 * report regenerated after late transactions does not keep a stale warning. Answers the ids of
 * the insights it created (not those it updated): those are new to the user.
 */
export async function storeDerivedInsights(tx: EntityManager, userId: string, reportId: string, derived: DerivedInsight[], now: Date): Promise<string[]> {
  const connection = tx.getConnection();
  const trx = tx.getTransactionContext();
  const created: string[] = [];
  for (const insight of derived) {
    // xmax is 0 on a row this statement inserted, and set on one the conflict clause updated.
    const [row]: { id: string; inserted: boolean }[] = await connection.execute(
      `insert into insights (id, user_id, report_id, kind, subject, category_id, title, body, created_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?)
       on conflict on constraint insights_subject
       do update set report_id = excluded.report_id, title = excluded.title, body = excluded.body
       returning id, (xmax = 0) as inserted`,
      [randomUUID(), userId, reportId, insight.kind, insight.subject, insight.categoryId, insight.title, insight.body, now],
      'all',
      trx,
    );
    if (row?.inserted) created.push(row.id);
  }
  const subjects = derived.map((d) => d.subject);
  const keep = subjects.length ? `and subject not in (${subjects.map(() => '?').join(', ')})` : '';
  await connection.execute(`delete from insights where report_id = ? and dismissed_at is null ${keep}`, [reportId, ...subjects], 'run', trx);
  return created;
}

/** Owners see their own insights, admins everyone's; anybody else is told it does not exist. */
export async function findInsight(em: EntityManager, viewer: AuthUser, id: string): Promise<InsightRecord> {
  const insight = isUuid(id) ? await em.findOne(InsightRecord, { id }) : null;
  if (!insight || (insight.userId !== viewer.id && viewer.role !== 'ADMIN')) throw notFound('Insight', id);
  return insight;
}

export function listInsights(em: EntityManager, userId: string, includeDismissed: boolean): Promise<InsightRecord[]> {
  return em.find(
    InsightRecord,
    includeDismissed ? { userId } : { userId, dismissedAt: null },
    { orderBy: { createdAt: 'desc', kind: 'asc', subject: 'asc' } },
  );
}

/** Dismisses one of the caller's own insights; dismissing again keeps the first time. */
export async function dismissInsight(em: EntityManager, userId: string, id: string): Promise<InsightRecord> {
  return em.transactional(async (tx) => {
    const insight = isUuid(id) ? await tx.findOne(InsightRecord, { id }) : null;
    if (!insight || insight.userId !== userId) throw notFound('Insight', id);
    insight.dismissedAt ??= new Date();
    return insight;
  });
}
