import type { Instrument } from '@analytica/instruments';
import { loadSentimentModel, type SentimentModel } from './sentiment.js';
import { createTickerMatcher } from './tickers.js';
import { topicsOf } from './topics.js';

export { loadSentimentModel, tokens, type SentimentArtefact, type SentimentModel } from './sentiment.js';
export { createTickerMatcher, shortName, type TickerMatcher } from './tickers.js';
export { isTopic, TOPIC_SLUGS, TOPICS, topicsOf, type Topic } from './topics.js';

export interface Enrichment {
  /** Listed instruments the article is about. */
  symbols: string[];
  /** Taxonomy topics (topics.ts). */
  topics: string[];
  /** P(positive) - P(negative) of the headline, from -1 to 1, rounded to 4 decimals. */
  sentiment: number;
  /** The version of the sentiment model that scored it. */
  sentimentModel: string;
}

export interface ArticleText {
  title: string;
  summary: string;
  body: string;
  /** What the feed says: its ticker and category lists. */
  tickers: readonly string[];
  topics: readonly string[];
}

/**
 * Enrichment at ingest: tickers from the reference instruments (title, summary and body, plus the
 * feed's own tickers), topics from the taxonomy (title and summary, the instruments' sectors, the
 * feed's categories that are taxonomy slugs) and the sentiment of the headline. Pure and
 * synchronous: about a tenth of a millisecond an article.
 */
export function createEnricher(instruments: readonly Pick<Instrument, 'symbol' | 'name' | 'sector'>[], model: SentimentModel = loadSentimentModel()) {
  const matcher = createTickerMatcher(instruments);
  const sectorOf = new Map(instruments.map((i) => [i.symbol, i.sector]));
  return {
    modelVersion: model.version,
    enrich(article: ArticleText): Enrichment {
      const symbols = matcher.match(`${article.title}\n${article.summary}\n${article.body}`, article.tickers);
      const topics = topicsOf(`${article.title}\n${article.summary}`, { given: article.topics, sectors: symbols.map((s) => sectorOf.get(s) ?? '') });
      return { symbols, topics, sentiment: Math.round(model.score(article.title) * 10_000) / 10_000, sentimentModel: model.version };
    },
  };
}
