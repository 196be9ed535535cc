import { randomUUID } from 'node:crypto';
import type { AuthUser } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, ownedOrNotFound, visibleOrNotFound } from '@analytica/subgraph/access';
import { InsightRecord } from './insight.entity.js';
import type { DerivedInsight } from './insight-rules.js';

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
      `insert into insights (id, user_id, report_id, kind, subject, category_id, title, body, created_at, figures)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
       on conflict on constraint insights_subject
       do update set report_id = excluded.report_id, title = excluded.title, body = excluded.body, figures = excluded.figures
       returning id, (xmax = 0) as inserted`,
      [
        randomUUID(),
        userId,
        reportId,
        insight.kind,
        insight.subject,
        insight.categoryId,
        insight.title,
        insight.body,
        now,
        insight.figures ? JSON.stringify(insight.figures) : null,
      ],
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
  return visibleOrNotFound(viewer, isUuid(id) ? await em.findOne(InsightRecord, { id }) : null, 'Insight', id);
}

export function listInsights(em: EntityManager, userId: string, includeDismissed: boolean): Promise<InsightRecord[]> {
  return em.find(InsightRecord, includeDismissed ? { userId } : { userId, dismissedAt: null }, { orderBy: { createdAt: 'desc', kind: 'asc', subject: 'asc' } });
}

/** Dismisses one of the caller's own insights; dismissing again keeps the first time. */
export async function dismissInsight(em: EntityManager, userId: string, id: string): Promise<InsightRecord> {
  return em.transactional(async (tx) => {
    const insight = ownedOrNotFound(userId, isUuid(id) ? await tx.findOne(InsightRecord, { id }) : null, 'Insight', id);
    insight.dismissedAt ??= new Date();
    return insight;
  });
}
