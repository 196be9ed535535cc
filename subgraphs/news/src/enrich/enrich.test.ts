import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readReferenceFile, type Instrument } from '@analytica/instruments';
import {
  clausesOf,
  createEnricher,
  createTickerMatcher,
  loadSentimentModel,
  scoreTickers,
  sentencesOf,
  shortName,
  tokens,
  topicsOf,
  type SentimentArtefact,
  type TickerMatcher,
} from './index.js';

let instruments: Instrument[];
let matcher: TickerMatcher;
beforeAll(async () => {
  instruments = (await readReferenceFile()).instruments;
  matcher = createTickerMatcher(instruments);
});

describe('ticker matcher', () => {
  it.each([
    ['Apple unveils a foldable phone', ['AAPL']],
    ['Nvidia and AMD rally as chip demand booms', ['AMD', 'NVDA']],
    ["NVIDIA's data-centre sales beat forecasts", ['NVDA']],
    ['Shares of Microsoft Corporation hit a record', ['MSFT']],
    ['Goldman Sachs and JPMorgan lead bank stocks higher', ['GS', 'JPM']],
    ['Nestle cuts its sales outlook', ['NESN.SW']],
    ['Nestlé cuts its sales outlook', ['NESN.SW']],
    ['Bitcoin tops 100,000 for the first time', ['BTC-USD']],
    ['Coinbase Global (COIN) posts a profit', ['COIN']],
    ['Traders buy $TSLA after deliveries', ['TSLA']],
    ['Listed in Frankfurt: SAP.DE gains after results', ['SAP.DE']],
    ['NYSE: IBM rises', ['IBM']],
    ['Target shares fall after a weak holiday quarter', ['TGT']],
    ["Visa's payment volumes grow", ['V']],
    ['HSBC reshuffles its Asian management', ['HSBA.L']],
  ])('%s -> %j', (text, symbols) => {
    expect(matcher.match(text).sort()).toEqual([...symbols].sort());
  });

  it.each([
    ['IT spending slows as companies cut budgets'],
    ['Plan A or plan B: what a rate cut means for savers'],
    ['Analysts raise their price target for the sector'],
    ['GDP grows 0.4% as the ECB holds rates'],
    ['The CEO says NOW is the time for AI at a LOW cost'],
    ['An apple a day: fruit prices climb'],
    ['Visa rules for workers tighten'],
    ['Block out the noise: five habits of long-term investors'],
    ['STOCKS FALL AS OIL COST RISES AND SHOP PRICES CLIMB'],
    ['The Dow closes at a record'],
    ['Southern Europe braces for a heatwave'],
    ['Euro / US Dollar traders wait for the ECB'],
  ])('finds nothing in %s', (text) => {
    expect(matcher.match(text)).toEqual([]);
  });

  it("keeps the feed's own tickers that are listed, first, and drops unknown ones", () => {
    expect(matcher.match('Markets wrap', ['MSFT', 'NOPE'])).toEqual(['MSFT']);
    expect(matcher.match('Apple gains', ['MSFT'])).toEqual(['MSFT', 'AAPL']);
  });

  it('shortens listed names as headlines write them', () => {
    expect(shortName('The Goldman Sachs Group, Inc.')).toBe('Goldman Sachs');
    expect(shortName('Alphabet Inc. Class A')).toBe('Alphabet');
    expect(shortName('Merck & Co., Inc.')).toBe('Merck');
    expect(shortName('Eli Lilly and Company')).toBe('Eli Lilly');
  });
});

describe('topics', () => {
  it.each([
    ['Apple beats quarterly earnings forecasts', [], ['earnings']],
    ['Fed holds interest rates steady as inflation cools', [], ['rates', 'inflation']],
    ['Bitcoin swings as fund flows turn negative', ['crypto'], ['crypto']],
    ['Mortgage rates fall to the lowest in a year', [], ['housing']],
    ['Oil slips after a surprise build in US crude stocks', [], ['markets', 'energy']],
    ['How big should your emergency fund be?', ['personal-finance'], ['personal-finance']],
    ['Regulators open an antitrust probe into the takeover', [], ['deals', 'regulation']],
  ] as const)('%s -> %j', (text, given, topics) => {
    expect(topicsOf(text, { given })).toEqual(topics);
  });

  it("adds the instruments' sectors and keeps only the feed's taxonomy slugs", () => {
    expect(topicsOf('Exxon names a new chief', { sectors: ['Energy'], given: ['markets', 'celebrity-gossip'] })).toEqual(['markets', 'energy']);
  });
});

describe('sentiment model', () => {
  const model = loadSentimentModel();

  it('tokenises as the Python trainer does', () => {
    expect(tokens("Nestlé's Q3 profit up 12%")).toEqual(['nestle', 's', 'q', '0', 'profit', 'up', '0', 'nestle s', 's q', 'q 0', '0 profit', 'profit up', 'up 0']);
  });

  it.each([
    ['Apple shares soar after record iPhone sales', 'positive'],
    ['Chevron profit jumps on robust demand', 'positive'],
    ['Apple shares tumble after weak iPhone sales', 'negative'],
    ['Tesla shares plunge after a profit warning', 'negative'],
    ['Intel cuts its outlook and announces layoffs', 'negative'],
  ] as const)('scores %s as %s', (text, label) => {
    const score = model.score(text);
    if (label === 'positive') expect(score).toBeGreaterThan(0.3);
    else expect(score).toBeLessThan(-0.3);
  });

  it('separates the held-out handwritten headlines on average, within [-1, 1]', async () => {
    const parity = JSON.parse(await readFile(new URL('../../data/sentiment-parity.json', import.meta.url), 'utf8')) as { cases: { text: string; label: string }[] };
    const mean = (label: string) => {
      const scores = parity.cases.filter((c) => c.label === label).map((c) => model.score(c.text));
      for (const s of scores) expect(Math.abs(s)).toBeLessThanOrEqual(1);
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    };
    expect(mean('positive')).toBeGreaterThan(0.2);
    expect(mean('negative')).toBeLessThan(-0.2);
    expect(Math.abs(mean('neutral'))).toBeLessThan(0.2);
  });

  it('scores a neutral headline near zero', () => {
    expect(Math.abs(model.score('Siemens names a new chief financial officer'))).toBeLessThan(0.3);
  });

  it('gives the scores Python computed from the same artefact (parity)', async () => {
    const parity = JSON.parse(await readFile(new URL('../../data/sentiment-parity.json', import.meta.url), 'utf8')) as {
      version: string;
      cases: { text: string; score: number }[];
    };
    expect(parity.version).toBe(model.version);
    expect(parity.cases.length).toBeGreaterThan(50);
    for (const c of parity.cases) expect(Math.abs(model.score(c.text) - c.score), c.text).toBeLessThan(1e-9);
  });

  it('refuses a model built for other tokens', async () => {
    const artefact = JSON.parse(await readFile(new URL('../../data/sentiment-model.json', import.meta.url), 'utf8')) as SentimentArtefact;
    expect(() => loadSentimentModel({ ...artefact, tokensVersion: 99 })).toThrow(/tokens v99/);
  });
});

describe('enricher', () => {
  it('enriches an article with tickers, topics and a sentiment with the model version', () => {
    const { enrich, modelVersion } = createEnricher(instruments);
    const enriched = enrich({
      title: 'Exxon Mobil beats quarterly earnings forecasts as oil prices climb',
      summary: 'The oil major lifted its dividend.',
      body: 'Chevron, its rival, reports next week.',
      tickers: [],
      topics: ['markets'],
    });
    expect(enriched).toMatchObject({ symbols: ['XOM', 'CVX'], topics: ['markets', 'earnings', 'energy'], sentimentModel: modelVersion });
    expect(enriched.sentiment).toBeGreaterThan(0.3);
  });
});

describe('sentiment per ticker', () => {
  it('splits sentences and contrasted clauses', () => {
    expect(sentencesOf('Apple rose 3%. Samsung fell!\nSony was flat? "Nintendo" gained.')).toEqual(['Apple rose 3%.', 'Samsung fell!', 'Sony was flat?', '"Nintendo" gained.']);
    expect(clausesOf('Apple shares soar after record iPhone sales, while Samsung shares tumble after weak phone sales')).toEqual([
      'Apple shares soar after record iPhone sales',
      'Samsung shares tumble after weak phone sales',
    ]);
  });

  it('scores each ticker from the clauses that name it, and the article from its headline', () => {
    const { enrich } = createEnricher(instruments);
    const enriched = enrich({
      title: 'Phone makers report quarterly results',
      summary: 'Apple shares soar after record iPhone sales, while Samsung shares tumble after weak phone sales.',
      body: 'Apple raises its full-year outlook. Analysts expect Samsung to cut its outlook and announce layoffs.',
      tickers: [],
      topics: [],
    });
    expect(enriched.symbols).toEqual(['AAPL', '005930.KS']);
    const bySymbol = Object.fromEntries(enriched.tickerSentiments.map((t) => [t.symbol, t.score]));
    expect(Object.keys(bySymbol)).toEqual(['AAPL', '005930.KS']);
    expect(bySymbol.AAPL).toBeGreaterThan(0.3);
    expect(bySymbol['005930.KS']).toBeLessThan(-0.3);
    expect(Math.abs(enriched.sentiment)).toBeLessThan(0.3);
  });

  it("gives a ticker only the headline or the feed names the article's score", () => {
    const { enrich } = createEnricher(instruments);
    const enriched = enrich({
      title: 'Tesla shares plunge after a profit warning',
      summary: 'The carmaker cut its delivery forecast.',
      body: 'Deliveries fell in every region.',
      tickers: ['F'],
      topics: [],
    });
    expect(enriched.symbols).toEqual(['F', 'TSLA']);
    expect(enriched.sentiment).toBeLessThan(-0.3);
    expect(enriched.tickerSentiments).toEqual([
      { symbol: 'F', score: enriched.sentiment },
      { symbol: 'TSLA', score: enriched.sentiment },
    ]);
  });

  it('averages every sentence that names a ticker, each score rounded to 4 decimals within [-1, 1]', () => {
    const model = loadSentimentModel();
    const matcher = createTickerMatcher(instruments);
    const article = { summary: 'Intel cuts its outlook and announces layoffs.', body: 'Intel raises its dividend.' };
    const [intel] = scoreTickers(article, ['INTC'], matcher, model, 0);
    const expected = (model.score('Intel cuts its outlook and announces layoffs.') + model.score('Intel raises its dividend.')) / 2;
    expect(intel).toEqual({ symbol: 'INTC', score: Math.round(expected * 10_000) / 10_000 });
    expect(scoreTickers(article, [], matcher, model, 0)).toEqual([]);
  });
});
