import DataLoader from 'dataloader';
import type { SubgraphContext } from '@analytica/subgraph';
import { getArticles, type ArticleRecord, type ArticleStore } from './articles/articles.js';
import { readInteractions, type Interactions } from './interactions/interactions.js';

export interface NewsContext extends SubgraphContext {
  store: ArticleStore;
  /** Per request, so that a page of articles and its _entities lookups are one BatchGetItem each. */
  articles: DataLoader<string, ArticleRecord | null>;
  /** The caller's saves and likes; absent for an anonymous request, which no resolver serves. */
  interactions?: DataLoader<string, Interactions>;
}

export function newsContext(base: SubgraphContext, store: ArticleStore): NewsContext {
  const user = base.user;
  return {
    ...base,
    store,
    articles: new DataLoader((ids) => getArticles(store, ids), { maxBatchSize: 100 }),
    interactions: user ? new DataLoader((ids) => readInteractions(store, user.id, ids), { maxBatchSize: 50 }) : undefined,
  };
}
