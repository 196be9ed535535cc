import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { batchGet, GetCommand, PutCommand, type Dynamo } from '@analytica/dynamo';
import { runConsumer, type Consumer, type EventBus } from '@analytica/events';
import type { Logger } from '@analytica/logger';

/**
 * Article images as static content. An image is fetched once, when its article is stored (or
 * drawn, for the bundled articles), checked and kept in DynamoDB; the news service serves it from
 * there at `/content/articles/<id>/image`. Readers never make the service fetch anything: the route
 * takes an article id, not a URL, so it is no proxy.
 */
export interface ImageStore {
  dynamo: Dynamo;
  imagesTable: string;
}

/** One item per article: `articleId`, `contentType`, `bytes` (binary), `etag`, `source` (a URL, or `generated`). */
export function articleImagesTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'articleId', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'articleId', KeyType: 'HASH' }],
  };
}

/** Larger images are refused at ingest (a DynamoDB item holds at most 400 KB; a news picture needs far less). */
export const MAX_IMAGE_BYTES = 256 * 1024;

/**
 * The types served, recognised from the bytes themselves (never from the source's Content-Type):
 * no SVG or HTML, which a browser could run as a page of the service's origin.
 */
const SIGNATURES: { type: string; matches: (b: Uint8Array) => boolean }[] = [
  { type: 'image/png', matches: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: 'image/jpeg', matches: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: 'image/gif', matches: (b) => startsWith(b, [0x47, 0x49, 0x46, 0x38]) },
  { type: 'image/webp', matches: (b) => startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b.subarray(8), [0x57, 0x45, 0x42, 0x50]) },
];
const startsWith = (bytes: Uint8Array, prefix: number[]) => bytes.length >= prefix.length && prefix.every((v, i) => bytes[i] === v);

export function imageTypeOf(bytes: Uint8Array): string | undefined {
  return SIGNATURES.find((s) => s.matches(bytes))?.type;
}

export class ImageRefused extends Error {
  override name = 'ImageRefused';
}

export interface StoredImage {
  contentType: string;
  bytes: Uint8Array;
  etag: string;
}

/** A strong ETag from the bytes. */
export const etagOf = (bytes: Uint8Array) => `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 32)}"`;

/** Checks and keeps an article's image (replacing an earlier one); ImageRefused when it is too large or no image type served. */
export async function storeImage(store: ImageStore, articleId: string, bytes: Uint8Array, source: string): Promise<StoredImage> {
  if (bytes.length === 0 || bytes.length > MAX_IMAGE_BYTES) throw new ImageRefused(`the image is ${bytes.length} bytes; at most ${MAX_IMAGE_BYTES} are kept`);
  const contentType = imageTypeOf(bytes);
  if (!contentType) throw new ImageRefused('the bytes are not a PNG, JPEG, GIF or WebP image');
  const image = { contentType, bytes, etag: etagOf(bytes) };
  await store.dynamo.doc.send(new PutCommand({ TableName: store.imagesTable, Item: { articleId, ...image, size: bytes.length, source, storedAt: new Date().toISOString() } }));
  return image;
}

export async function readImage(store: ImageStore, articleId: string): Promise<StoredImage | null> {
  const { Item } = await store.dynamo.doc.send(new GetCommand({ TableName: store.imagesTable, Key: { articleId } }));
  if (!Item) return null;
  return { contentType: String(Item.contentType), bytes: Item.bytes as Uint8Array, etag: String(Item.etag) };
}

/** Which of these articles have an image (for Article.imageUrl), in the order asked. */
export async function haveImages(store: ImageStore, articleIds: readonly string[]): Promise<boolean[]> {
  const items = await batchGet(
    store.dynamo,
    store.imagesTable,
    [...new Set(articleIds)].map((articleId) => ({ articleId })),
  );
  const present = new Set(items.map((item) => String(item.articleId)));
  return articleIds.map((id) => present.has(id));
}

/**
 * Fetches an image an article names, at ingest: http(s) only, a time limit, at most
 * MAX_IMAGE_BYTES read (a longer answer is cut off and refused), and only image bytes kept.
 */
export async function fetchImage(url: string, options: { timeoutMs: number }): Promise<Uint8Array> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new ImageRefused(`${parsed.protocol} URLs are not fetched`);
  const response = await fetch(parsed, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'follow', headers: { accept: 'image/png, image/jpeg, image/webp, image/gif' } });
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new ImageRefused(`the image source answered ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_IMAGE_BYTES) {
    await response.body.cancel();
    throw new ImageRefused(`the image is ${declared} bytes; at most ${MAX_IMAGE_BYTES} are kept`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_IMAGE_BYTES) throw new ImageRefused(`the image is over ${MAX_IMAGE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A small picture for an article that brings none (the bundled ones): bands in colours drawn from its id, as a PNG. */
export function generatedImage(articleId: string, width = 320, height = 180): Uint8Array {
  const seed = createHash('sha256').update(articleId).digest();
  const colour = (i: number) => [seed[i]! % 200, seed[i + 1]! % 200, seed[i + 2]! % 200];
  const bands = [colour(0), colour(3), colour(6), colour(9)];
  const angle = (seed[12]! / 255) * 0.8 + 0.2;
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    rows[row] = 0; // no filter
    for (let x = 0; x < width; x++) {
      const band = bands[Math.floor(((x + y * angle * 2) / (width + height * angle * 2)) * bands.length) % bands.length]!;
      rows.set(band, row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Draws a picture for each of these articles that has none yet (the bundled articles, at start). */
export async function drawMissingImages(store: ImageStore, articleIds: readonly string[]): Promise<number> {
  const present = await haveImages(store, articleIds);
  const missing = articleIds.filter((_, i) => !present[i]);
  for (const id of missing) await storeImage(store, id, generatedImage(id), 'generated');
  return missing.length;
}

/**
 * Consumes `news.published.v1` in its own group (beside the articles' consumer, so a slow image
 * source never holds up an article): fetches the image an event names, unless the article's image
 * already came from that URL, and keeps it. An image that is refused (too large, not an image, a 4xx)
 * is logged and left out; the article is shown without one. A source that fails or times out is
 * retried through the topic's retry tiers, then dead-lettered.
 */
export function consumeArticleImages(deps: { bus: EventBus; images: ImageStore; groupId: string; logger: Logger; fetchTimeoutMs?: number }): Promise<Consumer> {
  return runConsumer({
    bus: deps.bus,
    groupId: deps.groupId,
    topic: 'news.published.v1',
    logger: deps.logger,
    async handle(event) {
      const { articleId, imageUrl } = event.payload;
      if (!imageUrl) return;
      const { Item } = await deps.images.dynamo.doc.send(
        new GetCommand({ TableName: deps.images.imagesTable, Key: { articleId }, ProjectionExpression: '#source', ExpressionAttributeNames: { '#source': 'source' } }),
      );
      if (Item?.source === imageUrl) return;
      try {
        await storeImage(deps.images, articleId, await fetchImage(imageUrl, { timeoutMs: deps.fetchTimeoutMs ?? 5000 }), imageUrl);
      } catch (error) {
        if (!(error instanceof ImageRefused) || /answered 5\d\d/.test(error.message)) throw error;
        deps.logger.warn({ articleId, imageUrl, reason: error.message }, 'article image refused; the article is shown without one');
      }
    },
  });
}
