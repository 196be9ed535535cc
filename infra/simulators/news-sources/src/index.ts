import { createHash } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import client from 'prom-client';
import { readReferenceFile } from '@analytica/instruments';
import { createLogger } from '@analytica/logger';
import { createHttpService } from '@analytica/service';
import { FAILURE_MODES, SOURCE_NAMES, type FailureMode, type NewsSourcesEnv, type SourceName } from './environment.js';
import { createNewsroom, MALFORMED_KINDS, SOURCES, type MalformedKind } from './newsroom.js';
import { GARBAGE, render, STORY_IMAGE } from './render.js';

export { newsSourcesEnvShape, parseNewsSourcesEnv, SOURCE_NAMES, type NewsSourcesEnv, type SourceName } from './environment.js';
export { createNewsroom, SOURCES, type Story } from './newsroom.js';

export interface Behaviour {
  slow: SourceName[];
  slowMs: number;
  failing: SourceName[];
  failureMode: FailureMode;
  hangMs: number;
}

const isSource = (name: unknown): name is SourceName => typeof name === 'string' && (SOURCE_NAMES as readonly string[]).includes(name);

/**
 * The news-source simulator: several publications over HTTP (RSS 2.0, Atom, a JSON API) with new
 * seeded stories over time, the same story on two sources, updates, malformed items, a slow source
 * and a failing one. Feeds answer conditional GETs (ETag, Last-Modified) with 304. `/sandbox` lets
 * tests publish a story now, add a malformed item, step the seeded news and change the behaviour.
 */
export async function startNewsSources(env: NewsSourcesEnv) {
  const logger = createLogger('news-sources', env.LOG_LEVEL);
  const reference = await readReferenceFile();
  const newsroom = createNewsroom({
    seed: env.NEWS_SEED,
    instruments: reference.instruments,
    feedSize: env.NEWS_FEED_SIZE,
    duplicateShare: env.NEWS_DUPLICATE_SHARE,
    updateShare: env.NEWS_UPDATE_SHARE,
    malformedShare: env.NEWS_MALFORMED_SHARE,
  });
  for (let n = 0; n < env.NEWS_INITIAL_STORIES; n++) newsroom.step();
  const behaviour: Behaviour = {
    slow: env.NEWS_SLOW_SOURCES,
    slowMs: env.NEWS_SLOW_MS,
    failing: env.NEWS_FAILING_SOURCES,
    failureMode: env.NEWS_FAILURE_MODE,
    hangMs: env.NEWS_HANG_MS,
  };
  // The rendered feed per source, kept until the source changes.
  const rendered = new Map<SourceName, { lastModified: number; imageBase: string; body: string; contentType: string; etag: string }>();
  const held = new Set<() => void>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      held.add(release);
    });

  function feedOf(source: SourceName, imageBase: string) {
    const lastModified = newsroom.lastModified(source);
    let feed = rendered.get(source);
    if (!feed || feed.lastModified !== lastModified || feed.imageBase !== imageBase) {
      const { body, contentType } = render(source, newsroom.items(source), lastModified, imageBase);
      feed = { lastModified, imageBase, body, contentType, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
      rendered.set(source, feed);
    }
    return feed;
  }

  const registry = new client.Registry();
  const requests = new client.Counter({ name: 'news_sources_requests_total', help: 'Feed requests by source and status', labelNames: ['source', 'status'], registers: [registry] });

  async function serveFeed(source: SourceName, req: Request, res: Response) {
    if (behaviour.slow.includes(source)) await wait(behaviour.slowMs);
    if (behaviour.failing.includes(source)) {
      if (behaviour.failureMode === 'hang') await wait(behaviour.hangMs);
      if (behaviour.failureMode === 'garbage') {
        requests.inc({ source, status: '200' });
        res
          .status(200)
          .type(SOURCES[source].format === 'json' ? 'application/json' : 'application/rss+xml')
          .send(GARBAGE);
        return;
      }
      requests.inc({ source, status: '503' });
      res.status(503).json({ code: 'UNAVAILABLE', message: 'The source is down.' });
      return;
    }
    // The stories' image URLs point back at this simulator, as the client reached it.
    const feed = feedOf(source, `${req.protocol}://${req.get('host') ?? '127.0.0.1'}`);
    res.setHeader('ETag', feed.etag);
    res.setHeader('Last-Modified', new Date(feed.lastModified).toUTCString());
    res.setHeader('Cache-Control', 'no-cache');
    const ifNoneMatch = req.header('if-none-match');
    const ifModifiedSince = Date.parse(req.header('if-modified-since') ?? '');
    // RFC 9110: If-None-Match wins; If-Modified-Since counts only without it.
    const notModified = ifNoneMatch
      ? ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === feed.etag)
      : Number.isFinite(ifModifiedSince) && feed.lastModified <= ifModifiedSince;
    if (notModified) {
      requests.inc({ source, status: '304' });
      res.status(304).end();
      return;
    }
    requests.inc({ source, status: '200' });
    res.status(200).type(feed.contentType).send(feed.body);
  }

  const routes = (app: express.Express) => {
    for (const source of SOURCE_NAMES) app.get(SOURCES[source].path, (req, res) => serveFeed(source, req, res));
    app.get('/images/:file', (req, res) => {
      if (!/^[a-z0-9-]{1,200}\.png$/.test(String(req.params.file))) return void res.status(404).end();
      res.setHeader('Cache-Control', 'public, max-age=86400');
      res.status(200).type('image/png').send(STORY_IMAGE);
    });
    app.get('/sources', (_req, res) => {
      res.json({ sources: SOURCE_NAMES.map((name) => ({ name, format: SOURCES[name].format, path: SOURCES[name].path, title: SOURCES[name].title })) });
    });

    const sandbox = express.Router();
    sandbox.use(express.json({ limit: '64kb' }));
    sandbox.post('/stories', (req, res) => {
      const body = (req.body ?? {}) as { title?: unknown; summary?: unknown; body?: unknown; symbols?: unknown; topics?: unknown; sources?: unknown; syndicated?: unknown };
      const sources = Array.isArray(body.sources) ? body.sources : [];
      if (sources.length === 0 || !sources.every(isSource) || typeof body.title !== 'string') {
        res.status(400).json({ code: 'BAD_REQUEST', message: `Send { title, symbols?, topics?, summary?, body?, sources: [some of ${SOURCE_NAMES.join(', ')}], syndicated? }.` });
        return;
      }
      const strings = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined);
      const story = newsroom.publish({
        title: body.title,
        summary: typeof body.summary === 'string' ? body.summary : undefined,
        body: typeof body.body === 'string' ? body.body : undefined,
        symbols: strings(body.symbols) ?? [],
        topics: strings(body.topics),
        sources,
        syndicated: body.syndicated === true,
      });
      res.status(201).json(story);
    });
    sandbox.post('/stories/:slug/update', (req, res) => {
      const story = newsroom.stories().find((s) => s.slug === req.params.slug);
      if (!story) {
        res.status(404).json({ code: 'NOT_FOUND', message: 'No story with this slug.' });
        return;
      }
      res.json(newsroom.update(story));
    });
    sandbox.post('/malformed', (req, res) => {
      const { source, kind } = (req.body ?? {}) as { source?: unknown; kind?: unknown };
      if (!isSource(source) || !MALFORMED_KINDS.includes(kind as MalformedKind)) {
        res.status(400).json({ code: 'BAD_REQUEST', message: `Send { source, kind: ${MALFORMED_KINDS.join(' | ')} }.` });
        return;
      }
      const item = newsroom.malformed(source, kind as MalformedKind);
      res.status(201).json({ guid: item.guid, kind });
    });
    sandbox.post('/step', (_req, res) => {
      res.json(newsroom.step());
    });
    sandbox.get('/behaviour', (_req, res) => {
      res.json(behaviour);
    });
    sandbox.put('/behaviour', (req, res) => {
      const change = (req.body ?? {}) as Partial<Record<keyof Behaviour, unknown>>;
      if (Array.isArray(change.slow) && change.slow.every(isSource)) behaviour.slow = change.slow;
      if (Array.isArray(change.failing) && change.failing.every(isSource)) behaviour.failing = change.failing;
      if (typeof change.slowMs === 'number' && change.slowMs >= 0) behaviour.slowMs = change.slowMs;
      if (typeof change.hangMs === 'number' && change.hangMs >= 0) behaviour.hangMs = change.hangMs;
      if (FAILURE_MODES.includes(change.failureMode as FailureMode)) behaviour.failureMode = change.failureMode as FailureMode;
      res.json(behaviour);
    });
    app.use('/sandbox', sandbox);
  };

  let timer: NodeJS.Timeout | undefined;
  const service = createHttpService({
    name: 'news-sources',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    registry,
    readiness: {},
    routes,
    beforeDrain: async () => {
      clearInterval(timer);
      for (const release of [...held]) release();
    },
  });
  const events = new client.Counter({ name: 'news_sources_events_total', help: 'Seeded events: new stories and updates', labelNames: ['kind'], registers: [service.registry] });
  if (env.NEWS_INTERVAL_MS > 0) {
    timer = setInterval(() => events.inc({ kind: newsroom.step().kind }), env.NEWS_INTERVAL_MS);
    timer.unref();
  }
  const running = await service.start();
  return { ...running, newsroom, behaviour, feedUrl: (source: SourceName) => `${running.url}${SOURCES[source].path}` };
}
