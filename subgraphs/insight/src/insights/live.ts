import type { Logger } from '@analytica/logger';
import type { LivePublisher } from '@analytica/redis/live';
import type { InsightRecord } from './insight.entity.js';
import { figuresOf } from './insights.graphql.js';

/**
 * `insightCreated` for each insight new to its owner, published on the owner's caller channel
 * after the generation that created it committed. The gateway answers the event from the payload
 * alone, so it carries every Insight field, serialised as GraphQL does. Best effort: a failure is
 * logged, and the insight is there for the next `me { insights }` all the same.
 */
export function insightsAnnouncer(live: LivePublisher, logger: Logger) {
  return async function announce(insights: readonly InsightRecord[]): Promise<void> {
    const results = await Promise.allSettled(insights.map((insight) => live.toUser('Insight', insight.userId, insightPayload(insight))));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed) logger.warn({ err: (results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason, failed }, 'could not publish new insights live');
  };
}

function insightPayload(insight: InsightRecord) {
  return {
    id: insight.id,
    userId: insight.userId,
    kind: insight.kind,
    title: insight.title,
    body: insight.body,
    categoryId: insight.categoryId,
    reportId: insight.reportId,
    createdAt: insight.createdAt.toISOString(),
    dismissedAt: insight.dismissedAt?.toISOString() ?? null,
    ...figuresOf(insight),
  };
}
