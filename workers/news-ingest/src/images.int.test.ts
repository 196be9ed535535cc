// A story's picture from the feed to the reader: the simulator offers it in the feed, news-ingest
// passes its URL on in news.published.v1, the news service fetches it once and serves its own copy.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { parseNewsEnv, startNewsService } from '@analytica/news-subgraph';
import { createTestAuth, eventually, gql, isolatedRunEnv, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseNewsIngestEnv, startNewsIngest } from './index.js';

const SIMULATOR = fileURLToPath(new URL('../../../infra/simulators/news-sources/src/main.ts', import.meta.url));
const run = uniqueName('news_img');
const env = isolatedRunEnv(run);
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });

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

beforeAll(async () => {
  const port = await freePort();
  simulatorUrl = `http://127.0.0.1:${port}`;
  simulator = spawn(process.execPath, ['--import', 'tsx', SIMULATOR], {
    env: { ...process.env, PORT: String(port), METRICS_PORT: '0', LOG_LEVEL: 'silent', NEWS_INTERVAL_MS: '0', NEWS_INITIAL_STORIES: '0', NEWS_MALFORMED_SHARE: '0' },
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
      NEWS_SOURCES: JSON.stringify([
        source('northgate', 'rss', '/feeds/northgate.rss', 'Northgate Markets Desk'),
        source('harbour', 'atom', '/feeds/harbour.atom', 'Harbour Street Journal'),
      ]),
    }),
  );
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await news?.stop();
  simulator?.kill('SIGTERM');
  await deleteTablesWithPrefix(dynamo, env.DYNAMODB_TABLE_PREFIX!);
  dynamo.close();
  await auth?.close();
});

describe('article images from the feeds', () => {
  it('serves the picture a feed gives a story from the news service, with its ETag and 304', async () => {
    const response = await fetch(`${simulatorUrl}/sandbox/stories`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Harbour cranes hit a record year', symbols: ['AAPL'], sources: ['harbour', 'northgate'] }),
    });
    const story = (await response.json()) as { title: string };
    const token = auth.tokenFor({ id: 'a11ce000-0000-4000-8000-0000000000f1' });
    const article = await eventually(async () => {
      const result = await gql(`${news.url}/graphql`, '{ articles(filter: { symbols: ["AAPL"] }, first: 10) { edges { node { title imageUrl } } } }', { token });
      const found = (result.data?.articles.edges as { node: { title: string; imageUrl: string | null } }[] | undefined)?.find((e) => e.node.title === story.title)?.node;
      return found?.imageUrl ? found : undefined;
    }, 15_000);
    const image = await fetch(`${news.url}${article.imageUrl}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const served = Buffer.from(await image.arrayBuffer());
    const original = Buffer.from(await (await fetch(`${simulatorUrl}/images/any-story.png`)).arrayBuffer());
    expect(served.equals(original)).toBe(true);
    const again = await fetch(`${news.url}${article.imageUrl}`, { headers: { 'if-none-match': image.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });
});
