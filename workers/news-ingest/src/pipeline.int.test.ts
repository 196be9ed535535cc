import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, GetCommand } from '@analytica/dynamo';
import { createKafkaBus, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import { createRedis } from '@analytica/redis';
import { createTestAuth, eventually, gql, isolatedRunEnv, services, uniqueName, type TestAuth } from '@analytica/testing';
import { canonicalUrl, createEnricher, NEWS_DLQ_TOPIC, parseNewsIngestEnv, SOURCE_HEADER, startNewsIngest } from './index.js';

// The simulator is its own workspace; it runs here as its own process, as it does in a stack.
const SIMULATOR = fileURLToPath(new URL('../../../infra/simulators/news-sources/src/main.ts', import.meta.url));
const run = uniqueName('news_pipe');
const env = isolatedRunEnv(run);
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const dlqBus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'pipeline-test', prefix: env.KAFKA_TOPIC_PREFIX, logger: createLogger('test', 'silent') });
const dead: ReceivedMessage[] = [];

let simulator: ChildProcess;
let simulatorUrl: string;
let auth: TestAuth;
let news: Awaited<ReturnType<typeof startNewsService>>;
let worker: Awaited<ReturnType<typeof startNewsIngest>>;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const sandbox = async (path: string, body: unknown) => {
  const response = await fetch(`${simulatorUrl}/sandbox${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await response.json()) as { canonicalUrl: string; title: string };
};
const query = (text: string) => gql(`${news.url}/graphql`, text, { token: auth.tokenFor({ id: 'a11ce000-0000-4000-8000-000000000001' }) });
const articlesAbout = async (symbol: string) =>
  (await query(`{ articles(symbol: "${symbol}", first: 10) { edges { node { id title source symbols } } } }`)).data?.articles.edges.map((e: { node: unknown }) => e.node) as
    { id: string; title: string; source: string; symbols: string[] }[] | undefined;

beforeAll(async () => {
  const port = await freePort();
  simulatorUrl = `http://127.0.0.1:${port}`;
  simulator = spawn(process.execPath, ['--import', 'tsx', SIMULATOR], {
    env: {
      ...process.env,
      PORT: String(port),
      METRICS_PORT: '0',
      LOG_LEVEL: 'silent',
      NEWS_INTERVAL_MS: '0',
      NEWS_INITIAL_STORIES: '0',
      NEWS_MALFORMED_SHARE: '0',
      NEWS_SLOW_SOURCES: 'slowwire',
      NEWS_SLOW_MS: '3000',
      NEWS_FAILING_SOURCES: 'brokenwire',
      NEWS_FAILURE_MODE: 'garbage',
    },
    stdio: 'ignore',
  });
  await eventually(async () => ((await fetch(`${simulatorUrl}/health`)).ok ? true : undefined), 20_000);

  auth = await createTestAuth();
  news = await startNewsService(parseNewsEnv({ ...env, ...auth.env, PORT: '0', LOG_LEVEL: 'silent', NEWS_CONSUME_PUBLISHED: 'true' }));
  const source = (name: string, format: string, path: string, title: string) => ({ name, title, format, url: `${simulatorUrl}${path}`, intervalMs: 200 });
  worker = await startNewsIngest(
    parseNewsIngestEnv({
      ...env,
      PORT: '0',
      LOG_LEVEL: 'silent',
      NEWS_FETCH_TIMEOUT_MS: '1000',
      NEWS_MAX_BACKOFF_MS: '2000',
      NEWS_SOURCES: JSON.stringify([
        source('northgate', 'rss', '/feeds/northgate.rss', 'Northgate Markets Desk'),
        source('harbour', 'atom', '/feeds/harbour.atom', 'Harbour Street Journal'),
        source('ledger', 'json', '/api/ledger/articles', 'The Ledger Wire'),
        source('slowwire', 'rss', '/feeds/slowwire.rss', 'Slow Wire'),
        source('brokenwire', 'rss', '/feeds/brokenwire.rss', 'Broken Wire'),
      ]),
    }),
  );
  await dlqBus.consume({
    groupId: 'dlq-reader',
    topics: [NEWS_DLQ_TOPIC],
    handle: async (message) => {
      dead.push(message);
    },
  });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await news?.stop();
  simulator?.kill('SIGTERM');
  await dlqBus.close();
  await deleteTablesWithPrefix(dynamo, env.DYNAMODB_TABLE_PREFIX!);
  dynamo.close();
  await auth?.close();
});

describe('news from feeds to the graph', () => {
  it('shows an AAPL story in articles(symbol) and as AAPL latestHeadline, announced on Quote.AAPL, within 5 s of the simulator publishing it', async () => {
    const subscriber = createRedis(services.redisUrl);
    const announced = new Promise<number>((resolve) => {
      subscriber.on('message', () => resolve(Date.now()));
    });
    await subscriber.subscribe(`${env.REDIS_KEY_PREFIX}Quote.AAPL`);
    try {
      const started = Date.now();
      const story = await sandbox('/stories', { title: 'Apple (AAPL) unveils a foldable phone', symbols: ['AAPL'], topics: ['markets'], sources: ['northgate'] });
      const listed = await eventually(async () => (await articlesAbout('AAPL'))?.find((a) => a.title === story.title), 5000, 50);
      expect(listed.symbols).toEqual(['AAPL']);
      const headline = await eventually(
        async () => {
          const result = await query(`{ _entities(representations: [{ __typename: "Quote", symbol: "AAPL" }]) { ... on Quote { latestHeadline { id title } } } }`);
          const title = result.data?._entities?.[0]?.latestHeadline?.title as string | undefined;
          return title === story.title ? title : undefined;
        },
        5000,
        50,
      );
      expect(headline).toBe(story.title);
      expect((await announced) - started).toBeLessThan(5000);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await subscriber.quit();
    }
  });

  it('stores one story from two feeds once, with both sources (same canonical URL, and a syndicated copy with the same text)', async () => {
    const shared = await sandbox('/stories', { title: 'Microsoft wins a defence cloud deal', symbols: ['MSFT'], sources: ['northgate', 'ledger'] });
    const syndicated = await sandbox('/stories', { title: 'Nvidia (NVDA) books record orders', symbols: ['NVDA'], sources: ['harbour', 'northgate'], syndicated: true });
    for (const [story, symbol, sources] of [
      [shared, 'MSFT', 'Northgate Markets Desk, The Ledger Wire'],
      [syndicated, 'NVDA', 'Harbour Street Journal, Northgate Markets Desk'],
    ] as const) {
      const article = await eventually(async () => {
        const found = (await articlesAbout(symbol))?.filter((a) => a.title === story.title) ?? [];
        return found.length === 1 && found[0]!.source === sources ? found : undefined;
      }, 10_000);
      expect(article).toHaveLength(1);
      // Stays one article after further polls.
      await new Promise((r) => setTimeout(r, 500));
      expect((await articlesAbout(symbol))?.filter((a) => a.title === story.title)).toHaveLength(1);
    }
    const stored = await dynamo.doc.send(
      new GetCommand({ TableName: `${env.DYNAMODB_TABLE_PREFIX}news_ingest_stories`, Key: { key: `URL#${canonicalUrl(shared.canonicalUrl)}` }, ConsistentRead: true }),
    );
    const item = await dynamo.doc.send(new GetCommand({ TableName: `${env.DYNAMODB_TABLE_PREFIX}articles`, Key: { id: stored.Item!.articleId, entry: 'ARTICLE' } }));
    expect(item.Item!.sources).toEqual(['Northgate Markets Desk', 'The Ledger Wire']);
  });

  it('enriches an article at ingest (tickers from company names, taxonomy topics, headline sentiment) and the ticker, topic and minSentiment filters use it', async () => {
    // No tickers and no categories from the feed: everything below comes from the enrichment.
    const good = await sandbox('/stories', {
      title: 'Exxon Mobil shares soar after record quarterly profit',
      summary: 'Higher oil prices lifted the results.',
      symbols: [],
      topics: [],
      sources: ['ledger'],
    });
    const bad = await sandbox('/stories', {
      title: 'Chevron shares tumble after weak quarterly results',
      summary: 'Falling oil prices hit the refiner.',
      symbols: [],
      topics: [],
      sources: ['ledger'],
    });
    type Enriched = {
      title: string;
      symbols: string[];
      topics: string[];
      sentiment: number | null;
      sentimentModel: string | null;
      tickerSentiments: { symbol: string; score: number; modelVersion: string }[];
    };
    const filtered = async (filter: string) =>
      (
        await query(
          `{ articles(filter: ${filter}, first: 50) { edges { node { title symbols topics sentiment sentimentModel tickerSentiments { symbol score modelVersion } } } } }`,
        )
      ).data?.articles.edges.map((e: { node: Enriched }) => e.node) as Enriched[] | undefined;
    const version = createEnricher([]).modelVersion;

    const positive = await eventually(async () => (await filtered('{ symbols: ["XOM"] }'))?.find((a) => a.title === good.title), 10_000);
    expect(positive).toMatchObject({ symbols: ['XOM'], topics: ['markets', 'earnings', 'energy'], sentimentModel: version });
    expect(positive.sentiment).toBeGreaterThan(0.5);
    // Only the headline names Exxon: its ticker takes the article's score, from the same model.
    expect(positive.tickerSentiments).toEqual([{ symbol: 'XOM', score: positive.sentiment, modelVersion: version }]);
    const negative = await eventually(async () => (await filtered('{ symbols: ["CVX"] }'))?.find((a) => a.title === bad.title), 10_000);
    expect(negative).toMatchObject({ symbols: ['CVX'], topics: ['markets', 'earnings', 'energy'], sentimentModel: version });
    expect(negative.sentiment).toBeLessThan(-0.5);

    const titles = async (filter: string) => (await filtered(filter))?.map((a) => a.title) ?? [];
    expect(await titles('{ symbols: ["XOM", "CVX"], minSentiment: 0.5 }')).toEqual([good.title]);
    // -1 keeps every scored article (the bundled ones are scored too).
    expect(await titles('{ symbols: ["XOM", "CVX"], minSentiment: -1 }')).toEqual(expect.arrayContaining([bad.title, good.title]));
    expect(await titles('{ topics: ["energy"], minSentiment: 0.5 }')).toContain(good.title);
    expect(await titles('{ topics: ["energy"], minSentiment: 0.5 }')).not.toContain(bad.title);
    expect(await titles('{ symbols: ["XOM"], minSentiment: 0.99 }')).toEqual([]);
    expect(await titles('{ symbols: ["XOM"], topics: ["crypto"] }')).toEqual([]);
  });

  it('sends a malformed item to the DLQ naming its source and applies the rest of the feed', async () => {
    await sandbox('/malformed', { source: 'harbour', kind: 'bad-date' });
    const after = await sandbox('/stories', { title: 'Amazon (AMZN) expands same-day delivery', symbols: ['AMZN'], sources: ['harbour'] });
    const message = await eventually(async () => dead.find((m) => m.headers[SOURCE_HEADER] === 'harbour'), 10_000);
    expect(message.key).toBe('harbour');
    expect(JSON.parse(message.value)).toMatchObject({ source: 'harbour', reason: expect.stringMatching(/date is not a date/) });
    await eventually(async () => (await articlesAbout('AMZN'))?.find((a) => a.title === after.title), 10_000);
  });

  it('keeps polling the other sources while one answers garbage and one times out, and reports both in /metrics', async () => {
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${worker.metricsUrl}/metrics`)).text();
      const value = (name: string, labels: string[]) =>
        text
          .split('\n')
          .filter((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
          .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
      return value('news_ingest_polls_total', ['source="brokenwire"', 'outcome="garbage"']) > 0 &&
        value('news_ingest_polls_total', ['source="slowwire"', 'outcome="timeout"']) > 0 &&
        value('news_ingest_source_consecutive_failures', ['source="slowwire"']) > 0 &&
        value('news_ingest_items_total', ['source="northgate"', 'outcome="new"']) > 0
        ? text
        : undefined;
    }, 15_000);
    expect(metrics).toMatch(/news_ingest_polls_total\{[^}]*source="northgate"[^}]*outcome="not_modified"[^}]*\} [1-9]/);
    const story = await sandbox('/stories', { title: 'Meta (META) trims its capital spending', symbols: ['META'], sources: ['ledger'] });
    await eventually(async () => (await articlesAbout('META'))?.find((a) => a.title === story.title), 5000);
  });
});
