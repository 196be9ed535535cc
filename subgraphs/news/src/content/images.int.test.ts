import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix } from '@analytica/dynamo';
import { createKafkaBus, encodeEvent, type EventPayload } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { parseNewsEnv, startNewsService } from '../index.js';
import { articleImagesTable, consumeArticleImages, fetchImage, generatedImage, ImageRefused, imageTypeOf, MAX_IMAGE_BYTES, readImage, storeImage } from './images.js';

const run = uniqueName('news_images');
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const images = { dynamo, imagesTable: `${run}_article_images` };
const reader = { id: 'a11ce000-0000-4000-8000-0000000000d1' };
const admin = { id: 'ad000000-0000-4000-8000-0000000000d2', role: 'ADMIN' as const };
let auth: TestAuth;
let service: Awaited<ReturnType<typeof startNewsService>>;
let origin: http.Server;
let originUrl: string;

// Stands in for a publication's image server: what an article's image URL may answer.
const answers: Record<string, (res: http.ServerResponse) => void> = {
  '/photo.png': (res) => res.writeHead(200, { 'content-type': 'image/png' }).end(generatedImage('photo')),
  '/page.html': (res) => res.writeHead(200, { 'content-type': 'image/png' }).end('<html><script>alert(1)</script></html>'),
  '/drawing.svg': (res) => res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
  // No Content-Length: the limit must hold while reading.
  '/huge.png': (res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.write(generatedImage('huge'));
    res.end(Buffer.alloc(MAX_IMAGE_BYTES));
  },
  '/missing.png': (res) => res.writeHead(404).end(),
};

beforeAll(async () => {
  auth = await createTestAuth();
  service = await startNewsService(
    parseNewsEnv({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ...auth.env,
      DYNAMODB_ENDPOINT: services.dynamoEndpoint,
      DYNAMODB_TABLE_PREFIX: `${run}_`,
      KAFKA_BROKERS: services.kafkaBrokers,
      KAFKA_TOPIC_PREFIX: `${run}.`,
    }),
  );
  await dynamo.ensureTable(articleImagesTable(images.imagesTable));
  origin = http.createServer((req, res) => (answers[req.url ?? ''] ?? ((r: http.ServerResponse) => r.writeHead(404).end()))(res));
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await service?.stop();
  await new Promise((resolve) => origin?.close(resolve));
  await deleteTablesWithPrefix(dynamo, `${run}_`);
  dynamo.close();
  await auth?.close();
});

const ask = (query: string, variables?: Record<string, unknown>, who: { id: string; role?: 'USER' | 'ADMIN' } = reader) =>
  gql(`${service.url}/graphql`, query, { token: auth.tokenFor(who), variables });

describe('article images', () => {
  it('gives every bundled article an imageUrl served as a PNG with caching headers, and 304 for its ETag', async () => {
    const page = await ask('{ articles(first: 3) { edges { node { id imageUrl contentPath } } } }');
    expect(page.errors).toBeUndefined();
    const [{ node }] = page.data.articles.edges;
    expect(node.imageUrl).toBe(`/content/articles/${node.id}/image`);

    const first = await fetch(`${service.url}${node.imageUrl}`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/png');
    expect(first.headers.get('cache-control')).toBe('public, max-age=300, stale-while-revalidate=60');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]{32}"$/);
    const bytes = new Uint8Array(await first.arrayBuffer());
    expect(imageTypeOf(bytes)).toBe('image/png');
    expect(bytes.length).toBeGreaterThan(100);

    const again = await fetch(`${service.url}${node.imageUrl}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('etag')).toBe(etag);
    const changed = await fetch(`${service.url}${node.imageUrl}`, { headers: { 'if-none-match': '"something-else"' } });
    expect(changed.status).toBe(200);

    // The body beside it keeps its own ETag and 304.
    const body = await fetch(`${service.url}${node.contentPath}`);
    expect(body.status).toBe(200);
    expect(body.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect((await fetch(`${service.url}${node.contentPath}`, { headers: { 'if-none-match': body.headers.get('etag')! } })).status).toBe(304);
  });

  it('answers 404 no-store for an unknown article, a hidden one and a path that is not an article id', async () => {
    const page = await ask('{ articles(first: 5) { edges { node { id imageUrl } } } }');
    const id = page.data.articles.edges[4].node.id as string;
    expect((await ask('mutation($id: ID!) { hideArticle(id: $id, reason: "test") { id } }', { id }, admin)).errors).toBeUndefined();
    for (const path of [`/content/articles/${id}/image`, '/content/articles/no-such-article/image', '/content/articles/..%2F..%2Fetc/image']) {
      const answer = await fetch(`${service.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers.get('cache-control'), path).toBe('no-store');
    }
    // The URL is never something the service fetches: there is no parameter to give it one.
    const proxied = await fetch(`${service.url}/content/articles/x/image?url=${encodeURIComponent(`${originUrl}/photo.png`)}`);
    expect(proxied.status).toBe(404);
  });

  it('keeps an image fetched at ingest, and refuses one that is too large, or not a PNG, JPEG, GIF or WebP whatever its Content-Type says', async () => {
    const photo = await fetchImage(`${originUrl}/photo.png`, { timeoutMs: 2000 });
    const stored = await storeImage(images, 'ingested-article', photo, `${originUrl}/photo.png`);
    expect(stored.contentType).toBe('image/png');
    expect(await readImage(images, 'ingested-article')).toMatchObject({ contentType: 'image/png', etag: stored.etag });

    await expect(fetchImage(`${originUrl}/huge.png`, { timeoutMs: 2000 })).rejects.toThrow(ImageRefused);
    await expect(fetchImage(`${originUrl}/missing.png`, { timeoutMs: 2000 })).rejects.toThrow(/404/);
    await expect(fetchImage('file:///etc/passwd', { timeoutMs: 2000 })).rejects.toThrow(ImageRefused);
    for (const path of ['/page.html', '/drawing.svg']) {
      const bytes = await fetchImage(`${originUrl}${path}`, { timeoutMs: 2000 });
      await expect(storeImage(images, `refused-${path.slice(1, 5)}`, bytes, path)).rejects.toThrow(ImageRefused);
    }
    await expect(storeImage(images, 'too-big', Buffer.concat([generatedImage('big'), Buffer.alloc(MAX_IMAGE_BYTES)]), 'test')).rejects.toThrow(ImageRefused);
    expect(await readImage(images, 'refused-page')).toBeNull();
    expect(await readImage(images, 'too-big')).toBeNull();
  });

  it('fetches the image a published article names at ingest, and leaves out one that is refused', async () => {
    const bus = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'test', prefix: `${run}.`, logger: createLogger('test', 'silent') });
    const consumer = await consumeArticleImages({ bus, images, groupId: 'images', logger: createLogger('test', 'silent') });
    try {
      const event = (articleId: string, imageUrl: string): EventPayload<'news.published.v1'> => ({
        articleId,
        revision: 1,
        canonicalUrl: `https://news.example.com/${articleId}`,
        url: `https://news.example.com/${articleId}`,
        title: 'A story',
        summary: 'A story.',
        body: 'A story. More to follow.',
        sources: ['Northgate Markets Desk'],
        topics: ['markets'],
        symbols: [],
        publishedAt: '2026-12-06T10:00:00.000Z',
        updatedAt: '2026-12-06T10:00:00.000Z',
        contentHash: 'a'.repeat(64),
        imageUrl,
      });
      await bus.publish('news.published.v1', [
        encodeEvent('news.published.v1', 'story-with-photo', event('story-with-photo', `${originUrl}/photo.png`)),
        encodeEvent('news.published.v1', 'story-with-page', event('story-with-page', `${originUrl}/page.html`)),
        encodeEvent('news.published.v1', 'story-with-huge', event('story-with-huge', `${originUrl}/huge.png`)),
      ]);
      const stored = await eventually(() => readImage(images, 'story-with-photo').then((i) => i ?? undefined), 15_000);
      expect(stored.contentType).toBe('image/png');
      expect(Buffer.from(stored.bytes).equals(Buffer.from(generatedImage('photo')))).toBe(true);
      await new Promise((r) => setTimeout(r, 1000));
      expect(await readImage(images, 'story-with-page')).toBeNull();
      expect(await readImage(images, 'story-with-huge')).toBeNull();
    } finally {
      await consumer.stop();
      await bus.close();
    }
  }, 30_000);
});
