import DataLoader from 'dataloader';
import type { SubgraphContext } from '@analytica/subgraph';
import type { LivePublisher } from '@analytica/redis/live';
import { getArticles, type ArticleRecord } from './articles/articles.js';
import { haveImages, type ImageStore } from './content/images.js';
import type { InteractionEvents } from './interactions/events.js';
import { readInteractions, type Interactions } from './interactions/interactions.js';
import { blockedSources, type ModerationStore } from './moderation/moderation.js';
import type { SharedFeeds } from './feed/shared-feeds.js';

export interface NewsContext extends SubgraphContext {
  store: ModerationStore;
  /** Per request, so that a page of articles and its _entities lookups are one BatchGetItem each. */
  articles: DataLoader<string, ArticleRecord | null>;
  /** The caller's saves and likes; absent for an anonymous request, which no resolver serves. */
  interactions?: DataLoader<string, Interactions>;
  /** The newest articles of each list and articles' topics, shared between readers for a few seconds (myFeed). */
  feeds: SharedFeeds;
  /** Blocked publications, read once per request. */
  blocked: () => Promise<Set<string>>;
  /** Tells quote subscribers that a symbol's headline changed (moderation); absent in tests without Redis. */
  live?: LivePublisher;
  /** Whether each article has an image (Article.imageUrl), one BatchGetItem per request. */
  hasImage: DataLoader<string, boolean>;
  /** Outboxes `user.interactions.v1` for each recorded view, click, like, save, their undoing and reading session. */
  interactionEvents: InteractionEvents;
}

export function newsContext(
  base: SubgraphContext,
  store: ModerationStore,
  feeds: SharedFeeds,
  interactionEvents: InteractionEvents,
  images: ImageStore,
  live?: LivePublisher,
): NewsContext {
  const user = base.user;
  let blocked: Promise<Set<string>> | undefined;
  return {
    ...base,
    store,
    feeds,
    live,
    interactionEvents,
    hasImage: new DataLoader((ids) => haveImages(images, ids), { maxBatchSize: 100 }),
    articles: new DataLoader((ids) => getArticles(store, ids), { maxBatchSize: 100 }),
    interactions: user ? new DataLoader((ids) => readInteractions(store, user.id, ids), { maxBatchSize: 50 }) : undefined,
    blocked: () => (blocked ??= blockedSources(store)),
  };
}
