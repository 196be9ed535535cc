// The feed applier on real DynamoDB (dynalite) and Kafka: what this process remembers having stored
// skips DynamoDB, DynamoDB stays the truth for everything else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, GetCommand, type Dynamo } from '@analytica/dynamo';
import { createKafkaBus, type BusMessage, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createEnricher } from '@analytica/news-subgraph/enrich';
import { isolatedRunEnv, services, uniqueName } from '@analytica/testing';
import { createFeedApplier, NEWS_TOPIC, storyGroups } from './ingest.js';
import { createStoredItems } from './memory.js';
import type { FeedItem } from './parse.js';
import { storiesTable, type Outcome } from './store.js';

const run = uniqueName('news_ingest');
const env = isolatedRunEnv(run);
const table = `${env.DYNAMODB_TABLE_PREFIX}news_ingest_stories`;
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const kafka = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'news-ingest-test', prefix: env.KAFKA_TOPIC_PREFIX, logger: createLogger('test', 'silent') });
const enricher = createEnricher([]);

/** Every DynamoDB command sent, by name. */
const calls: string[] = [];
const countedDynamo = {
  ...dynamo,
  doc: { send: (command: { constructor: { name: string } }) => (calls.push(command.constructor.name), dynamo.doc.send(command as never)) },
} as unknown as Dynamo;
/** Every news.published.v1 event Kafka acknowledged. */
const published: { articleId: string; revision: number; title: string; sources: string[] }[] = [];
const countedBus: EventBus = {
  ...kafka,
  publish: async (topic: string, messages: BusMessage[]) => {
    await kafka.publish(topic, messages);
    if (topic === NEWS_TOPIC) published.push(...messages.map((m) => JSON.parse(m.value)));
  },
};

/** DynamoDB as a network gives it: each call answered after its own delay (0-15 ms more), so calls side by side may end in any order. */
const jittered = {
  ...dynamo,
  doc: { send: async (command: unknown) => (await new Promise((r) => setTimeout(r, Math.random() * 15)), dynamo.doc.send(command as never)) },
} as unknown as Dynamo;

function applier(memory = createStoredItems(1000), concurrency = 1, through = countedDynamo) {
  const outcomes: Outcome[] = [];
  const apply = createFeedApplier({
    dynamo: through,
    table,
    bus: countedBus,
    enricher,
    stored: memory,
    concurrency,
    onItem: (_, outcome) => void (outcome !== 'malformed' && outcomes.push(outcome)),
  });
  return { apply, outcomes, memory };
}
const northgate = { name: 'northgate', title: 'Northgate Markets Desk', url: 'http://news.example/northgate.rss' };
const harbour = { name: 'harbour', title: 'Harbour Street Journal', url: 'http://news.example/harbour.atom' };
let counter = 0;
const story = (over: Partial<FeedItem> = {}): FeedItem => {
  const n = `${run}-${++counter}`;
  return {
    guid: n,
    title: `Story ${n} about the markets`,
    link: `https://news.example/stories/${n}?utm_source=feed`,
    summary: `Summary of ${n}`,
    body: `The body of story ${n}.`,
    publishedAt: '2026-12-07T00:00:00.000Z',
    updatedAt: '2026-12-07T00:00:00.000Z',
    topics: [],
    tickers: [],
    ...over,
  };
};
/** The feed as a source lists it: newest first. */
const feed = (...oldestFirst: FeedItem[]) => ({ items: [...oldestFirst].reverse(), malformed: [] });
const stored = async (articleId: string) => (await dynamo.doc.send(new GetCommand({ TableName: table, Key: { key: `ARTICLE#${articleId}` }, ConsistentRead: true }))).Item!;
const reset = () => {
  calls.length = 0;
  published.length = 0;
};

beforeAll(async () => {
  await dynamo.ensureTable(storiesTable(table));
}, 30_000);

afterAll(async () => {
  await kafka.close();
  await deleteTablesWithPrefix(dynamo, env.DYNAMODB_TABLE_PREFIX!);
  dynamo.close();
});

describe('what this process already stored', () => {
  it('costs no DynamoDB call and publishes nothing when the feed is read again unchanged', async () => {
    const { apply, outcomes } = applier();
    const items = [story(), story(), story()];
    await apply(northgate, feed(...items));
    expect(published.map((e) => e.title)).toEqual(items.map((i) => i.title));
    expect(calls.length).toBeGreaterThan(0);
    reset();
    outcomes.length = 0;

    await apply(northgate, feed(...items));
    expect(calls).toEqual([]);
    expect(published).toEqual([]);
    expect(outcomes).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });

  it('stores and publishes a changed item as a new revision, and only that one', async () => {
    const { apply } = applier();
    const first = story();
    const second = story();
    await apply(northgate, feed(first, second));
    const articleId = published.find((e) => e.title === second.title)!.articleId;
    reset();

    const changed = { ...second, title: `${second.title}, updated`, updatedAt: '2026-12-07T00:05:00.000Z' };
    await apply(northgate, feed(first, changed));
    expect(published).toEqual([expect.objectContaining({ articleId, revision: 2, title: changed.title })]);
    expect(await stored(articleId)).toMatchObject({ revision: 2, publishedRevision: 2, title: changed.title });
    reset();
    await apply(northgate, feed(first, changed));
    expect(calls).toEqual([]);
  });

  it('stores nothing twice after a restart with an empty memory: DynamoDB answers, then the memory is filled again', async () => {
    const before = applier();
    const items = [story(), story()];
    await before.apply(northgate, feed(...items));
    const ids = published.map((e) => e.articleId);
    reset();

    const restarted = applier();
    expect(restarted.memory.size).toBe(0);
    await restarted.apply(northgate, feed(...items));
    expect(calls.length).toBeGreaterThan(0);
    expect(published).toEqual([]);
    expect(restarted.outcomes).toEqual(['unchanged', 'unchanged']);
    for (const id of ids) expect(await stored(id)).toMatchObject({ revision: 1, publishedRevision: 1 });
    reset();
    await restarted.apply(northgate, feed(...items));
    expect(calls).toEqual([]);
  });

  it('does not skip the same story from another source: its source is added as a new revision', async () => {
    const { apply } = applier();
    const shared = story();
    await apply(northgate, feed(shared));
    reset();
    await apply(harbour, feed(shared));
    expect(calls.length).toBeGreaterThan(0);
    expect(published).toEqual([expect.objectContaining({ revision: 2, sources: ['Harbour Street Journal', 'Northgate Markets Desk'] })]);
  });

  it('forgets the least recently seen story beyond its bound, which then goes to DynamoDB again', async () => {
    const { apply, outcomes } = applier(createStoredItems(2));
    const [a, b, c] = [story(), story(), story()];
    await apply(northgate, feed(a, b, c));
    reset();
    outcomes.length = 0;
    // a was forgotten when c was stored; b and c are still known.
    await apply(northgate, feed(b, c));
    expect(calls).toEqual([]);
    await apply(northgate, feed(a));
    expect(calls.length).toBeGreaterThan(0);
    expect(published).toEqual([]);
    expect(outcomes).toEqual(['unchanged', 'unchanged', 'unchanged']);
  });
});

describe('stories side by side', () => {
  it('groups items sharing a canonical URL or a content hash, transitively, oldest first', () => {
    const entries = [
      { id: 1, canonical: 'a', hash: 'x' },
      { id: 2, canonical: 'b', hash: 'y' },
      { id: 3, canonical: 'c', hash: 'x' },
      { id: 4, canonical: 'b', hash: 'z' },
      { id: 5, canonical: 'd', hash: 'w' },
      { id: 6, canonical: 'c', hash: 'z' },
    ];
    expect(storyGroups(entries).map((g) => g.map((e) => e.id))).toEqual([[1, 2, 3, 4, 6], [5]]);
  });

  it('ends with the later of two revisions of each story in one feed, published in order, with 16 stories at a time', async () => {
    reset();
    const { apply } = applier(createStoredItems(1000), 16, jittered);
    const revisions = Array.from({ length: 24 }, () => {
      const first = story();
      return [first, { ...first, title: `${first.title}, revised`, body: `${first.body} Revised.`, updatedAt: '2026-12-07T00:10:00.000Z' }] as const;
    });
    await apply(northgate, feed(...revisions.flat()));
    for (const [first, revised] of revisions) {
      const events = published.filter((e) => e.title === first.title || e.title === revised.title);
      expect(events.map((e) => e.title)).toEqual([first.title, revised.title]);
      expect(events.map((e) => e.revision)).toEqual([1, 2]);
      expect(await stored(events[0]!.articleId)).toMatchObject({ title: revised.title, revision: 2, publishedRevision: 2 });
    }
  });

  it('stores one story from two feeds applied at once once, with both sources (same URL, and a copy of the text under another URL)', async () => {
    reset();
    const shared = story();
    const syndicated = story();
    const copy = { ...syndicated, guid: `${syndicated.guid}-copy`, link: `https://wire.example/copies/${syndicated.guid}` };
    // Two instances of the worker, each with its own memory.
    const first = applier(createStoredItems(1000), 16, jittered);
    const second = applier(createStoredItems(1000), 16, jittered);
    await Promise.all([first.apply(northgate, feed(shared, syndicated)), second.apply(harbour, feed(shared, copy))]);
    for (const title of [shared.title, syndicated.title]) {
      const ids = new Set(published.filter((e) => e.title === title).map((e) => e.articleId));
      expect(ids.size).toBe(1);
      expect((await stored([...ids][0]!)).sources).toEqual(new Set(['Harbour Street Journal', 'Northgate Markets Desk']));
    }
  });
});
