import { recordEvent } from '@analytica/events';
import type { Logger } from '@analytica/logger';
import type { Database, EntityManager } from '@analytica/postgres';
import { categoryNames } from '../category-names.js';
import { totalsByCurrency } from '../insights/insight-rules.js';
import { InsightRecord } from '../insights/insight.entity.js';
import { formatDay, periodEnd, periodStart, previousPeriodStart, type ReportPeriod } from '../periods.js';
import { startPasses } from '../passes.js';
import { generateReport } from '../reports/reports.js';
import { ReportLineRecord } from '../reports/report.entity.js';

/** Categories of spending listed in a digest, largest first. */
const TOP_CATEGORIES = 5;

/** The last period of each kind that has ended by `now`: last week (Monday to Sunday) and last month. */
export function endedPeriods(now: Date): { period: ReportPeriod; start: Date }[] {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return (['WEEKLY', 'MONTHLY'] as const).map((period) => ({ period, start: previousPeriodStart(period, periodStart(period, today)) }));
}

/**
 * The weekly and monthly digests: for each period that has ended, each user with transactions in it
 * gets its report generated (insights included) and one `digest` email asked of the notifications
 * worker, which sends it unless the user turned insight emails off. One per user and period,
 * across restarts and replicas: the digest's row (`digests`, keyed by user, period and start) and
 * the email request (outbox) are written in one transaction, and a row already there means sent.
 * Answers how many digests it asked for.
 */
export async function sendDigests(em: EntityManager, now: Date): Promise<number> {
  let sent = 0;
  for (const { period, start } of endedPeriods(now)) {
    const end = periodEnd(period, start);
    const users: { user_id: string }[] = await em.getConnection().execute(
      `select distinct s.user_id from spending s
        where s.day >= ? and s.day < ?
          and not exists (select 1 from digests d where d.user_id = s.user_id and d.period = ? and d.starts_on = ?)
        order by s.user_id`,
      [formatDay(start), formatDay(end), period, formatDay(start)],
    );
    for (const { user_id: userId } of users) {
      if (await sendDigest(em.fork(), userId, period, start, now)) sent++;
    }
  }
  return sent;
}

async function sendDigest(em: EntityManager, userId: string, period: ReportPeriod, start: Date, now: Date): Promise<boolean> {
  const { report } = await generateReport(em, userId, period, formatDay(start), now);
  return em.transactional(async (tx) => {
    const [claimed]: { user_id: string }[] = await tx.getConnection().execute(
      `insert into digests (user_id, period, starts_on, report_id, sent_at) values (?, ?, ?, ?, ?)
       on conflict on constraint digests_key do nothing
       returning user_id`,
      [userId, period, formatDay(start), report.id, now],
      'all',
      tx.getTransactionContext(),
    );
    if (!claimed) return false;
    // The report's own lines, so that the figures are the ones its insights were derived from.
    const lines = await tx.find(ReportLineRecord, { reportId: report.id }, { orderBy: { id: 'asc' } });
    const spending = lines.filter((l) => l.flow === 'SPENDING');
    const names = await categoryNames(
      tx,
      userId,
      spending.flatMap((l) => (l.categoryId ? [l.categoryId] : [])),
    );
    const insights = await tx.find(InsightRecord, { userId, reportId: report.id, dismissedAt: null }, { orderBy: { kind: 'asc', subject: 'asc' } });
    recordEvent(tx, 'notifications.email.v1', userId, {
      userId,
      template: 'digest',
      data: {
        period,
        startsOn: formatDay(start),
        endsOn: formatDay(new Date(periodEnd(period, start).getTime() - 86_400_000)),
        totals: totalsByCurrency(lines),
        topSpending: [...spending]
          .sort((a, b) => b.totalMinor - a.totalMinor)
          .slice(0, TOP_CATEGORIES)
          .map((l) => ({
            category: l.categoryId === null ? 'Uncategorised' : (names.get(l.categoryId) ?? 'A category without a known name'),
            amountMinor: l.totalMinor,
            currency: l.currency,
          })),
        insights: insights.map((i) => i.title),
      },
    });
    await tx.flush();
    return true;
  });
}

/** Looks for finished periods every `intervalMs` and asks for their digests (startPasses: one pass at a time, retried). */
export function startDigests(options: { db: Database; logger: Logger; intervalMs: number; clock: () => Date; onSent: () => void }) {
  return startPasses({
    logger: options.logger,
    intervalMs: options.intervalMs,
    what: 'digest pass',
    pass: async () => {
      const sent = await sendDigests(options.db.fork(), options.clock());
      if (sent) {
        options.logger.info({ sent }, 'digests asked for');
        options.onSent();
      }
    },
  });
}
