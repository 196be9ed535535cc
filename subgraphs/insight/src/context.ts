import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { InsightRecord } from './insights/insight.entity.js';
import { reportLinesLoader } from './reports/reports.js';

/** What every resolver of the insight subgraph gets: the caller, a fresh EntityManager and the loaders. */
export interface InsightContext extends SubgraphContext {
  em: EntityManager;
  loaders: { reportLines: ReturnType<typeof reportLinesLoader> };
  /** Tells the owners of insights just created (committed) about them, live; never throws. */
  insightsCreated(insights: readonly InsightRecord[]): Promise<void>;
}

export function insightContext(base: SubgraphContext, em: EntityManager, insightsCreated: InsightContext['insightsCreated'] = async () => {}): InsightContext {
  return { ...base, em, loaders: { reportLines: reportLinesLoader(em) }, insightsCreated };
}
