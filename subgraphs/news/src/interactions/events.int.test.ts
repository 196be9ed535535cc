import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamo, deleteTablesWithPrefix, QueryCommand, ScanCommand } from '@analytica/dynamo';
import { contracts, createKafkaBus, type BusMessage, type EventBus, type ReceivedMessage } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { createTestAuth, eventually, gql, services, uniqueName, type TestAuth } from '@analytica/testing';
import { readArticleBundle } from '../articles/articles.js';
import { parseNewsEnv, startNewsService } from '../index.js';
import { interactionHistory, interactionLogTable, INTERACTIONS_TOPIC, interactionOutboxTable, startInteractionRelay } from './events.js';

// Real Kafka and dynalite: the subgraph's own relay publishes under this run's topic prefix.
const run = uniqueName('news_events');
const prefix = `${run}.`;
const logger = createLogger('test', 'silent');
const dynamo = createDynamo({ endpoint: services.dynamoEndpoint, region: 'eu-west-1' });
const alice = { id: 'a11ce000-0000-4000-8000-0000000000e1' };
// Not the default (EU): what the events and the log carry comes from NEWS_REGION.
const region = 'APAC';
const logTable = `${run}_news_interaction_log`;

let auth: TestAuth;
let service: Awaited<ReturnType<typeof startNewsService>>;
let watcher: EventBus;
const seen: ReceivedMessage[] = [];
const stops: (() => Promise<void>)[] = [];

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
      KAFKA_TOPIC_PREFIX: prefix,
      NEWS_REGION: region,
    }),
  );
  watcher = createKafkaBus({ brokers: [services.kafkaBrokers], clientId: 'watch', prefix, logger });
  const consumer = await watcher.consume({ groupId: 'watch-interactions', topics: [INTERACTIONS_TOPIC], handle: async (m) => void seen.push(m) });
  stops.push(() => consumer.stop());
}, 60_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  await service?.stop();
  await watcher?.close();
  await deleteTablesWithPrefix(dynamo, `${run}_`);
  dynamo.close();
  await auth?.close();
});

const LIKE = 'mutation($id: ID!) { likeArticle(id: $id) { likeCount likedByMe } }';
const events = (userId: string, articleId: string) =>
  seen
    .map((m) => ({ headers: m.headers, key: m.key, payload: contracts[INTERACTIONS_TOPIC].parse(JSON.parse(m.value)) }))
    .filter((e) => e.payload.userId === userId && e.payload.articleId === articleId);

describe('user.interactions.v1', () => {
  it('publishes a like through the subgraph exactly once, however many times it arrives, and its undoing once', async () => {
    const article = (await readArticleBundle()).articles[0]!;
    const url = `${service.url}/graphql`;
    const token = auth.tokenFor(alice);
    const before = Date.now();
    const likes = await Promise.all(Array.from({ length: 5 }, () => gql(url, LIKE, { token, variables: { id: article.id } })));
    for (const r of likes) expect(r.errors).toBeUndefined();

    const like = await eventually(async () => events(alice.id, article.id)[0], 15_000);
    expect(like.key).toBe(`${region}#${alice.id}`);
    expect(like.payload).toMatchObject({ userId: alice.id, region, articleId: article.id, contentType: 'ARTICLE', kind: 'LIKE' });
    expect(like.headers['event-id']).toBe(like.payload.eventId);
    expect(like.headers['event-type']).toBe(INTERACTIONS_TOPIC);
    expect(like.payload.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(like.payload.occurredAt)).toBeGreaterThanOrEqual(before - 1000);

    // A second like of the same article changes nothing, so publishes nothing; taking it back is one UNLIKE.
    expect((await gql(url, LIKE, { token, variables: { id: article.id } })).errors).toBeUndefined();
    expect((await gql(url, 'mutation($id: ID!) { unlikeArticle(id: $id) { likedByMe } }', { token, variables: { id: article.id } })).errors).toBeUndefined();
    await eventually(async () => (events(alice.id, article.id).length >= 2 ? true : undefined), 15_000);
    // Time for a stray duplicate to arrive, if the relay sent one.
    await new Promise((r) => setTimeout(r, 1500));
    expect(events(alice.id, article.id).map((e) => e.payload.kind)).toEqual(['LIKE', 'UNLIKE']);
    expect(new Set(events(alice.id, article.id).map((e) => e.payload.eventId)).size).toBe(2);
  });

  it('publishes each reading session recorded through recordArticleDwell as DWELL with its time, and refuses a time out of range', async () => {
    const article = (await readArticleBundle()).articles[1]!;
    const url = `${service.url}/graphql`;
    const token = auth.tokenFor(alice);
    const DWELL = 'mutation($id: ID!, $ms: Int!) { recordArticleDwell(id: $id, milliseconds: $ms) { id } }';
    for (const ms of [0, 3_600_001]) {
      const refused = await gql(url, DWELL, { token, variables: { id: article.id, ms } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'milliseconds' });
    }
    expect((await gql(url, DWELL, { token, variables: { id: article.id, ms: 42_000 } })).errors).toBeUndefined();
    expect((await gql(url, DWELL, { token, variables: { id: article.id, ms: 5_000 } })).errors).toBeUndefined();
    await eventually(async () => (events(alice.id, article.id).length >= 2 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events(alice.id, article.id).map((e) => [e.payload.kind, e.payload.dwellMs])).toEqual([
      ['DWELL', 42_000],
      ['DWELL', 5_000],
    ]);
  });

  it('keeps a view and a save in the outbox while Kafka refuses them, and sends each once when it answers again', async () => {
    const table = `${run}_outage_outbox`;
    await dynamo.ensureTable(interactionOutboxTable(table));
    await dynamo.ensureTable(interactionLogTable(`${run}_outage_log`));
    let down = true;
    let refused = 0;
    // The real broker behind a switch: while `down`, every send fails as a broker outage would.
    const flaky: EventBus = {
      ...watcher,
      kind: 'kafka',
      async publish(topic: string, messages: BusMessage[]) {
        if (down) {
          refused++;
          throw new Error('KafkaJSConnectionError: Connection error: connect ECONNREFUSED');
        }
        await watcher.publish(topic, messages);
      },
    };
    const relay = startInteractionRelay({ dynamo, outboxTable: table, logTable: `${run}_outage_log`, region, bus: flaky, logger, intervalMs: 200 });
    stops.push(() => relay.stop());
    const reader = 'b0b00000-0000-4000-8000-0000000000e2';
    await relay.record('VIEW', reader, 'outage-article');
    await relay.record('SAVE', reader, 'outage-article');

    await eventually(async () => (refused >= 2 ? true : undefined), 10_000);
    const waiting = await dynamo.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    expect(waiting.Items?.map((i) => JSON.parse(String(i.value)).kind).sort()).toEqual(['SAVE', 'VIEW']);
    expect(events(reader, 'outage-article')).toEqual([]);

    down = false;
    await eventually(async () => (events(reader, 'outage-article').length >= 2 ? true : undefined), 40_000);
    await eventually(async () => ((await dynamo.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items?.length === 0 ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events(reader, 'outage-article').map((e) => e.payload.kind)).toEqual(['VIEW', 'SAVE']);
    // Logged before each (refused) send and again before the one that went through: still one item per event.
    expect((await interactionHistory(dynamo, `${run}_outage_log`, region, reader, 'ARTICLE')).map((e) => e.kind)).toEqual(['SAVE', 'VIEW']);
  }, 60_000);

  const CLICK = 'mutation($id: ID!) { recordArticleClick(id: $id) { id title } }';

  it('publishes every click through to the source as CLICK, keyed <region>#<userId> with the region in the event', async () => {
    const article = (await readArticleBundle()).articles[2]!;
    const url = `${service.url}/graphql`;
    const token = auth.tokenFor(alice);
    for (let i = 0; i < 3; i++) {
      const clicked = await gql(url, CLICK, { token, variables: { id: article.id } });
      expect(clicked.errors).toBeUndefined();
      expect(clicked.data).toEqual({ recordArticleClick: { id: article.id, title: article.title } });
    }
    // Unlike a view, each click counts: three clicks by one reader are three events.
    await eventually(async () => (events(alice.id, article.id).length >= 3 ? true : undefined), 15_000);
    await new Promise((r) => setTimeout(r, 1000));
    const clicks = events(alice.id, article.id);
    expect(clicks.map((e) => e.payload.kind)).toEqual(['CLICK', 'CLICK', 'CLICK']);
    expect(new Set(clicks.map((e) => e.payload.eventId)).size).toBe(3);
    for (const click of clicks) {
      expect(click.key).toBe(`${region}#${alice.id}`);
      expect(click.payload).toMatchObject({ userId: alice.id, region, articleId: article.id, contentType: 'ARTICLE' });
      expect(click.headers['event-id']).toBe(click.payload.eventId);
    }

    // Anonymous callers are refused; nothing is recorded for them.
    expect((await gql(url, CLICK, { variables: { id: article.id } })).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('keeps every event once in the interaction log under <region>#<userId>, sorted by content type and newest first', async () => {
    const url = `${service.url}/graphql`;
    const token = auth.tokenFor(alice);
    const article = (await readArticleBundle()).articles[4]!;
    expect((await gql(url, 'mutation($id: ID!) { recordArticleView(id: $id) { id } }', { token, variables: { id: article.id } })).errors).toBeUndefined();
    expect((await gql(url, CLICK, { token, variables: { id: article.id } })).errors).toBeUndefined();
    expect((await gql(url, 'mutation($id: ID!) { saveArticle(id: $id) { id } }', { token, variables: { id: article.id } })).errors).toBeUndefined();

    // Every event alice's requests in this file published (likes, dwells, clicks, this view, click and save) is in the log once.
    const published = () =>
      seen
        .map((m) => contracts[INTERACTIONS_TOPIC].parse(JSON.parse(m.value)))
        .filter((e) => e.userId === alice.id)
        .sort((a, b) => b.occurredAt.localeCompare(a.occurredAt) || b.eventId.localeCompare(a.eventId));
    await eventually(async () => (published().some((e) => e.articleId === article.id && e.kind === 'SAVE') ? true : undefined), 15_000);
    const history = await interactionHistory(dynamo, logTable, region, alice.id, 'ARTICLE');
    expect(history.map((e) => e.eventId)).toEqual(published().map((e) => e.eventId));
    expect(history.filter((e) => e.articleId === article.id).map((e) => e.kind)).toEqual(['SAVE', 'CLICK', 'VIEW']);
    expect(new Set(history.map((e) => e.kind))).toEqual(new Set(['LIKE', 'UNLIKE', 'DWELL', 'CLICK', 'VIEW', 'SAVE']));
    expect(history[0]).toEqual(published()[0]);

    // The keys themselves: the partition is region#user, the sort key starts with the content type.
    const items = await dynamo.doc.send(
      new QueryCommand({ TableName: logTable, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${region}#${alice.id}` }, ConsistentRead: true }),
    );
    expect(items.Items).toHaveLength(history.length);
    for (const item of items.Items ?? []) expect(item.sk).toBe(`ARTICLE#${String(item.occurredAt)}#${String(item.eventId)}`);
  });

  it('answers NOT_FOUND for a click on a hidden or unknown article and BAD_USER_INPUT for an id that cannot be one, recording nothing', async () => {
    const url = `${service.url}/graphql`;
    const token = auth.tokenFor(alice);
    const hidden = (await readArticleBundle()).articles[5]!;
    const admin = auth.tokenFor({ id: 'ad000000-0000-4000-8000-0000000000e9', role: 'ADMIN' });
    expect((await gql(url, 'mutation($id: ID!) { hideArticle(id: $id, reason: "click test") { id } }', { token: admin, variables: { id: hidden.id } })).errors).toBeUndefined();

    for (const id of [hidden.id, 'no-such-article']) {
      const refused = await gql(url, CLICK, { token, variables: { id } });
      expect(refused.data).toBeNull();
      expect(refused.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    for (const id of ['', 'x'.repeat(201)]) {
      const refused = await gql(url, CLICK, { token, variables: { id } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
      expect(refused.errors?.[0]?.message).toMatch(/article's id \(1 to 200 characters\)/);
    }
    await new Promise((r) => setTimeout(r, 1000));
    expect(events(alice.id, hidden.id)).toEqual([]);
    expect((await interactionHistory(dynamo, logTable, region, alice.id, 'ARTICLE')).filter((e) => e.articleId === hidden.id)).toEqual([]);
  });
});

describe('NEWS_REGION', () => {
  it('defaults to EU and takes only upper-case letters, naming the variable otherwise', () => {
    const env = { ...auth.env, DYNAMODB_ENDPOINT: services.dynamoEndpoint };
    expect(parseNewsEnv(env).NEWS_REGION).toBe('EU');
    expect(parseNewsEnv({ ...env, NEWS_REGION: 'US' }).NEWS_REGION).toBe('US');
    for (const bad of ['eu', 'E#U', 'E', '']) expect(() => parseNewsEnv({ ...env, NEWS_REGION: bad })).toThrow(/NEWS_REGION.*upper-case letters/s);
  });
});
