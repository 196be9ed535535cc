// Offline evaluation of the myFeed ranker (issue 14): NDCG@10 on held-out interactions against a
// recency baseline and a popularity baseline. `npm run evaluate:ranker -w subgraphs/news` (seeded,
// the same figures every run; `-- --seed 7 --users 500` to vary). Figures: docs/news.md.
//
// The interactions are simulated (no real reader data exists yet): readers with a watchlist, a few
// followed topics and hidden tastes (topic and symbol interests the ranker never sees) open and like
// articles in one session a day, with a probability that grows with their interest, the article's
// quality and its freshness. Days 1-12 train; the sessions of days 13-14 are held out: the
// candidates are the articles of the three days before the session, graded 2 (liked) / 1 (opened) /
// 0, and each ranker orders them with the profile and popularity of everything before the session.
import { parseArgs } from 'node:util';
import { seededRandom } from '@analytica/random';
import type { ArticleRecord } from '../articles/articles.js';
import { buildProfile, popularScore, relevanceScore } from './feed.js';

const { values } = parseArgs({ options: { seed: { type: 'string', default: '14' }, users: { type: 'string', default: '300' }, articles: { type: 'string', default: '60' } } });
const DAY = 86_400_000;
const START = Date.UTC(2026, 10, 1);
const TOPICS = ['markets', 'economy', 'earnings', 'crypto', 'personal-finance', 'technology', 'energy', 'banking'];
const SYMBOLS = [
  'AAPL',
  'MSFT',
  'NVDA',
  'AMZN',
  'GOOGL',
  'META',
  'TSLA',
  'SAP.DE',
  'ASML.AS',
  '7203.T',
  'BTC-USD',
  'ETH-USD',
  'JPM',
  'XOM',
  'NESN.SW',
  'SHEL.L',
  'BHP.AX',
  'SONY',
  'V',
  'KO',
];

const random = seededRandom(Number(values.seed));
const sample = <T>(list: T[], n: number) => [...list].sort(() => random() - 0.5).slice(0, n);

interface SimArticle extends ArticleRecord {
  quality: number;
}
const articles: SimArticle[] = [];
for (let day = 0; day < 14; day++) {
  for (let n = 0; n < Number(values.articles); n++) {
    const publishedAt = new Date(START + day * DAY + random() * DAY);
    articles.push({
      id: `a${day}-${n}`,
      title: '',
      summary: '',
      body: '',
      source: '',
      url: '',
      topics: sample(TOPICS, 1 + Math.floor(random() * 2)),
      symbols: random() < 0.7 ? sample(SYMBOLS, 1 + Math.floor(random() * 2)) : [],
      publishedAt,
      publishedAtText: publishedAt.toISOString(),
      likeCount: 0,
      saveCount: 0,
      viewCount: 0,
      sources: [],
      hidden: false,
      sentiment: null,
      sentimentModel: null,
      tickerSentiments: [],
      quality: Math.exp(random() * 1.5 - 0.75),
    });
  }
}

interface Reader {
  watchlist: string[];
  followed: string[];
  topicTaste: Map<string, number>;
  symbolTaste: Map<string, number>;
}
const readers: Reader[] = Array.from({ length: Number(values.users) }, () => {
  const watchlist = sample(SYMBOLS, 2 + Math.floor(random() * 4));
  const loved = sample(TOPICS, 2);
  return {
    watchlist,
    followed: random() < 0.5 ? [loved[0]!] : [],
    topicTaste: new Map(TOPICS.map((t) => [t, loved.includes(t) ? 1 + random() : random() * 0.4])),
    symbolTaste: new Map(SYMBOLS.map((s) => [s, watchlist.includes(s) ? 0.8 + random() : random() < 0.15 ? 1 : random() * 0.2])),
  };
});

type Event = { reader: number; article: SimArticle; at: number; kind: 'open' | 'like' };
/** One session per reader and day, at a random time: the articles of the three days before it are what the app could show. */
const sessions: { reader: number; at: number; day: number }[] = [];
readers.forEach((_, r) => {
  for (let day = 0; day < 14; day++) sessions.push({ reader: r, at: START + day * DAY + (0.2 + 0.7 * random()) * DAY, day });
});
sessions.sort((a, b) => a.at - b.at);
const candidatesAt = (at: number) => articles.filter((a) => a.publishedAt.getTime() <= at && a.publishedAt.getTime() > at - 3 * DAY);
const events: Event[] = [];
const opened = new Set<string>();
for (const session of sessions) {
  const reader = readers[session.reader]!;
  for (const article of candidatesAt(session.at)) {
    if (opened.has(`${session.reader}/${article.id}`)) continue;
    const age = (session.at - article.publishedAt.getTime()) / DAY;
    const interest = Math.max(0, ...article.topics.map((t) => reader.topicTaste.get(t)!)) + Math.max(0, ...article.symbols.map((s) => reader.symbolTaste.get(s)!));
    const p = 1 / (1 + Math.exp(-(2 * interest + 0.8 * Math.log(article.quality) - 1.5 * age - 4.5)));
    if (random() >= p) continue;
    opened.add(`${session.reader}/${article.id}`);
    events.push({ reader: session.reader, article, at: session.at, kind: 'open' });
    if (random() < 0.35 * Math.min(1, interest)) events.push({ reader: session.reader, article, at: session.at, kind: 'like' });
  }
}

function ndcgAt10(ranked: SimArticle[], grade: Map<string, number>): number {
  const gains = ranked.slice(0, 10).map((a) => grade.get(a.id) ?? 0);
  const dcg = gains.reduce((sum, g, n) => sum + (2 ** g - 1) / Math.log2(n + 2), 0);
  const ideal = [...grade.values()]
    .sort((a, b) => b - a)
    .slice(0, 10)
    .reduce((sum, g, n) => sum + (2 ** g - 1) / Math.log2(n + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

const scores = { ranker: [] as number[], recency: [] as number[], popularity: [] as number[] };
// Held out: the sessions of days 13 and 14. Popularity and each profile come from what happened before the session.
for (const session of sessions.filter((s) => s.day >= 12)) {
  const truth = events.filter((e) => e.reader === session.reader && e.at === session.at);
  if (truth.length === 0) continue;
  const grade = new Map<string, number>();
  for (const e of truth) grade.set(e.article.id, Math.max(grade.get(e.article.id) ?? 0, e.kind === 'like' ? 2 : 1));
  const before = events.filter((e) => e.at < session.at);
  const counts = new Map<string, { likeCount: number; viewCount: number }>();
  for (const e of before) {
    const c = counts.get(e.article.id) ?? { likeCount: 0, viewCount: 0 };
    if (e.kind === 'like') c.likeCount++;
    else c.viewCount++;
    counts.set(e.article.id, c);
  }
  const reader = readers[session.reader]!;
  const mine = before.filter((e) => e.reader === session.reader);
  const profile = buildProfile(
    reader.watchlist,
    { topics: reader.followed, symbols: [] },
    mine.map((e) => ({ article: e.article, weight: e.kind === 'like' ? 3 : 1 })),
    mine.filter((e) => e.kind === 'open').map((e) => e.article.id),
  );
  const candidates = candidatesAt(session.at).map((a) => ({ ...a, ...(counts.get(a.id) ?? { likeCount: 0, viewCount: 0 }) }));
  const by = (score: (a: SimArticle) => number) => [...candidates].sort((a, b) => score(b) - score(a));
  scores.ranker.push(
    ndcgAt10(
      by((a) => relevanceScore(a, profile, session.at)),
      grade,
    ),
  );
  scores.recency.push(
    ndcgAt10(
      by((a) => a.publishedAt.getTime()),
      grade,
    ),
  );
  scores.popularity.push(
    ndcgAt10(
      by((a) => popularScore(a, session.at)),
      grade,
    ),
  );
}

const mean = (list: number[]) => list.reduce((s, v) => s + v, 0) / list.length;
const result = {
  seed: Number(values.seed),
  readers: readers.length,
  articles: articles.length,
  interactions: events.length,
  heldOutLists: scores.ranker.length,
  ndcgAt10: { ranker: mean(scores.ranker), recency: mean(scores.recency), popularity: mean(scores.popularity) },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
const beats = result.ndcgAt10.ranker > result.ndcgAt10.recency && result.ndcgAt10.ranker > result.ndcgAt10.popularity;
process.stdout.write(beats ? 'The ranker beats both baselines.\n' : 'The ranker does NOT beat both baselines.\n');
process.exitCode = beats ? 0 : 1;
