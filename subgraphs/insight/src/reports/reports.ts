import { randomUUID } from 'node:crypto';
import DataLoader from 'dataloader';
import type { AuthUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid, visibleOrNotFound } from '@analytica/subgraph/access';
import { InsightRecord } from '../insights/insight.entity.js';
import { deriveInsights, deriveTrendInsights, IDLE_CASH_MONTHS } from '../insights/insight-rules.js';
import { storeDerivedInsights } from '../insights/insights.js';
import { formatDay, parseDay, periodEnd, periodStart, previousPeriodStart, type ReportPeriod } from '../periods.js';
import { categoryNames } from '../category-names.js';
import { flowsBetween, monthlyTotals } from '../spending/spending.js';
import { ReportLineRecord, ReportRecord } from './report.entity.js';

/**
 * Builds (or rebuilds) the caller's report for the period that contains `startsOn`, from the daily
 * aggregate, and derives its insights against the period before; all in one transaction, so a
 * report is never seen half-written. Generating a period again refreshes the same report.
 * Answers the report and the insights this generation created (those found again are not new).
 */
export async function generateReport(
  em: EntityManager,
  userId: string,
  period: ReportPeriod,
  startsOn: string,
  now = new Date(),
): Promise<{ report: ReportRecord; createdInsights: InsightRecord[] }> {
  const start = periodStart(period, parseDay(startsOn, 'startsOn'));
  if (start.getTime() > now.getTime()) {
    throw badInput('startsOn', `The ${period === 'MONTHLY' ? 'month' : 'week'} from ${formatDay(start)} has not started yet.`);
  }
  const { reportId, created } = await em.transactional(async (tx) => {
    const connection = tx.getConnection();
    const trx = tx.getTransactionContext();
    // Concurrent generations of one period queue on this row; the last one's lines win, whole.
    const [report]: { id: string }[] = await connection.execute(
      `insert into reports (id, user_id, period, starts_on, created_at, generated_at) values (?, ?, ?, ?, ?, ?)
       on conflict on constraint reports_period do update set generated_at = excluded.generated_at
       returning id`,
      [randomUUID(), userId, period, formatDay(start), now, now],
      'all',
      trx,
    );
    const id = report!.id;
    await connection.execute('delete from report_lines where report_id = ?', [id], 'run', trx);
    const current = await flowsBetween(tx, userId, start, periodEnd(period, start));
    for (const line of current) tx.create(ReportLineRecord, { reportId: id, ...line } as ReportLineRecord);
    const previous = await flowsBetween(tx, userId, previousPeriodStart(period, start), start);
    const categoryIds = [...new Set([...current, ...previous].flatMap((l) => (l.categoryId === null ? [] : [l.categoryId])))];
    const names = await categoryNames(tx, userId, categoryIds);
    const derived = deriveInsights(period, start, current, previous, names);
    // A month also looks back over the months before it (trends, idle cash); a week is too short for that.
    if (period === 'MONTHLY') {
      const from = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - (IDLE_CASH_MONTHS - 1), 1));
      derived.push(...deriveTrendInsights(await monthlyTotals(tx, userId, from, periodEnd(period, start))));
    }
    const created = await storeDerivedInsights(tx, userId, id, derived, now);
    return { reportId: id, created };
  });
  const read = em.fork();
  return {
    report: await read.findOneOrFail(ReportRecord, { id: reportId }),
    // Read after the commit: what the caller may now announce as new.
    createdInsights: created.length ? await read.find(InsightRecord, { id: { $in: created } }, { orderBy: { kind: 'asc', subject: 'asc' } }) : [],
  };
}

/** Owners see their own reports, admins everyone's; anybody else is told it does not exist. */
export async function findReport(em: EntityManager, viewer: AuthUser, id: string): Promise<ReportRecord> {
  return visibleOrNotFound(viewer, isUuid(id) ? await em.findOne(ReportRecord, { id }) : null, 'Report', id);
}

export function listReports(em: EntityManager, userId: string): Promise<ReportRecord[]> {
  return em.find(ReportRecord, { userId }, { orderBy: { startsOn: 'desc', period: 'asc' } });
}

/** One query for the lines of a page of reports: spending first, largest first within a currency. */
export function reportLinesLoader(em: EntityManager) {
  return new DataLoader<string, ReportLineRecord[]>(async (ids) => {
    const rows = await em.find(ReportLineRecord, { reportId: { $in: [...ids] } }, { orderBy: { id: 'asc' } });
    return ids.map((id) => rows.filter((row) => row.reportId === id));
  });
}
