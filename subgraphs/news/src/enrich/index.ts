import type { Instrument } from '@analytica/instruments';
import { loadSentimentModel, type SentimentModel } from './sentiment.js';
import { round4, scoreTickers, type TickerSentiment } from './ticker-sentiment.js';
import { createTickerMatcher } from './tickers.js';
import { topicsOf } from './topics.js';

export { loadSentimentModel, tokens, type SentimentArtefact, type SentimentModel } from './sentiment.js';
export { createTickerMatcher, shortName, type TickerMatcher } from './tickers.js';
export { clausesOf, scoreTickers, sentencesOf, type TickerSentiment } from './ticker-sentiment.js';
export { followSentimentModel, readActiveSentimentModel, SENTIMENT_MODEL, sentimentModelEnv, type SentimentModelEnv, type SentimentModelSource } from './model-source.js';
export { isTopic, TOPIC_SLUGS, TOPICS, topicsOf, type Topic } from './topics.js';

export interface Enrichment extends SentimentScores {
  /** Listed instruments the article is about. */
  symbols: string[];
  /** Taxonomy topics (topics.ts). */
  topics: string[];
}

export interface SentimentScores {
  /** P(positive) - P(negative) of the headline, from -1 to 1, rounded to 4 decimals. */
  sentiment: number;
  /** The version of the sentiment model that scored it. */
  sentimentModel: string;
  /** One score per symbol, in the order of `symbols`, by the same model (ticker-sentiment.ts). */
  tickerSentiments: TickerSentiment[];
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
 * feed's categories that are taxonomy slugs), the sentiment of the headline, and a sentiment per
 * ticker from the sentences that name it. Pure and synchronous: well under a millisecond an article.
 */
export function createEnricher(
  instruments: readonly Pick<Instrument, 'symbol' | 'name' | 'sector'>[],
  /** A model, or where to get the current one (a registry-following source swaps it). */
  model: SentimentModel | (() => SentimentModel) = loadSentimentModel(),
) {
  const matcher = createTickerMatcher(instruments);
  const sectorOf = new Map(instruments.map((i) => [i.symbol, i.sector]));
  const current = typeof model === 'function' ? model : () => model;
  /** The sentiment of an article whose symbols are known, with one model throughout. */
  function sentimentOf(article: Pick<ArticleText, 'title' | 'summary' | 'body'>, symbols: readonly string[], using = current()): SentimentScores {
    const sentiment = round4(using.score(article.title));
    return { sentiment, sentimentModel: using.version, tickerSentiments: scoreTickers(article, symbols, matcher, using, sentiment) };
  }
  return {
    get modelVersion() {
      return current().version;
    },
    enrich(article: ArticleText): Enrichment {
      const symbols = matcher.match(`${article.title}\n${article.summary}\n${article.body}`, article.tickers);
      const topics = topicsOf(`${article.title}\n${article.summary}`, { given: article.topics, sectors: symbols.map((s) => sectorOf.get(s) ?? '') });
      return { symbols, topics, ...sentimentOf(article, symbols) };
    },
    /** Scores again with the current model, keeping the article's symbols (re-scoring after a model change). */
    rescore: (article: Pick<ArticleText, 'title' | 'summary' | 'body'>, symbols: readonly string[]): SentimentScores => sentimentOf(article, symbols),
  };
}

export type Enricher = ReturnType<typeof createEnricher>;
