import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNewsSourcesEnv, SOURCES, startNewsSources } from './index.js';

let simulator: Awaited<ReturnType<typeof startNewsSources>>;

beforeAll(async () => {
  simulator = await startNewsSources(
    parseNewsSourcesEnv({ PORT: '0', LOG_LEVEL: 'silent', NEWS_INTERVAL_MS: '0', NEWS_INITIAL_STORIES: '20', NEWS_SLOW_MS: '300', NEWS_SEED: '7' }),
  );
});
afterAll(async () => {
  await simulator?.stop();
});

const post = (path: string, body: unknown) => fetch(`${simulator.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the news-source simulator', () => {
  it('serves RSS 2.0, Atom and JSON with the seeded stories, tickers of listed instruments included', async () => {
    const rss = await fetch(simulator.feedUrl('northgate'));
    expect(rss.headers.get('content-type')).toMatch(/rss\+xml/);
    expect(await rss.text()).toMatch(/^<\?xml[^]*<rss version="2.0"/);
    const atom = await fetch(simulator.feedUrl('harbour'));
    expect(await atom.text()).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    const json = (await (await fetch(simulator.feedUrl('ledger'))).json()) as { articles: unknown[] };
    expect(Array.isArray(json.articles)).toBe(true);
    const all = simulator.newsroom.stories();
    // Some of the 20 seeded events are updates of earlier stories.
    expect(all.length).toBeGreaterThan(12);
    expect(all.length).toBeLessThanOrEqual(20);
    expect(all.every((s) => s.symbols.length === 1)).toBe(true);
    const sources = (await (await fetch(`${simulator.url}/sources`)).json()) as { sources: { name: string; format: string }[] };
    expect(sources.sources.map((s) => s.format).sort()).toEqual(['atom', 'json', 'rss', 'rss', 'rss']);
  });

  it('offers a picture per story in every format, at a URL on the simulator that answers a PNG', async () => {
    const rss = await (await fetch(simulator.feedUrl('northgate'))).text();
    const enclosure = /<enclosure url="([^"]+)" length="\d+" type="image\/png"\/>/.exec(rss)?.[1];
    expect(enclosure).toMatch(new RegExp(`^${simulator.url}/images/[a-z0-9-]+\\.png$`));
    const atom = await (await fetch(simulator.feedUrl('harbour'))).text();
    expect(atom).toMatch(/<link rel="enclosure" type="image\/png" href="http:\/\/[^"]+\/images\/[a-z0-9-]+\.png"\/>/);
    const json = (await (await fetch(simulator.feedUrl('ledger'))).json()) as { articles: { imageUrl?: string }[] };
    expect(json.articles.every((a) => a.imageUrl?.startsWith(`${simulator.url}/images/`))).toBe(true);
    const image = await fetch(enclosure!);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(
      Buffer.from(await image.arrayBuffer())
        .subarray(0, 4)
        .toString('latin1'),
    ).toBe('\x89PNG');
    expect((await fetch(`${simulator.url}/images/..%2Fsecret`)).status).toBe(404);
  });

  it('is the same news for the same seed', async () => {
    const again = await startNewsSources(parseNewsSourcesEnv({ PORT: '0', LOG_LEVEL: 'silent', NEWS_INTERVAL_MS: '0', NEWS_INITIAL_STORIES: '20', NEWS_SEED: '7' }));
    try {
      expect(again.newsroom.stories().map((s) => s.title)).toEqual(
        simulator.newsroom
          .stories()
          .slice(0, 20)
          .map((s) => s.title),
      );
    } finally {
      await again.stop();
    }
  });

  it('answers 304 to a conditional GET until the feed changes', async () => {
    const first = await fetch(simulator.feedUrl('harbour'));
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    expect(etag).toMatch(/^"/);
    expect((await fetch(simulator.feedUrl('harbour'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(simulator.feedUrl('harbour'), { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    await post('/sandbox/stories', { title: 'Apple opens a new campus', symbols: ['AAPL'], sources: ['harbour'] });
    const changed = await fetch(simulator.feedUrl('harbour'), { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('Apple opens a new campus');
    expect((await fetch(simulator.feedUrl('harbour'), { headers: { 'if-modified-since': lastModified } })).status).toBe(200);
  });

  it('puts one story on two sources under the same canonical URL, or syndicated with the same text', async () => {
    const story = (await (await post('/sandbox/stories', { title: 'Microsoft wins a cloud contract', symbols: ['MSFT'], sources: ['northgate', 'ledger'] })).json()) as {
      canonicalUrl: string;
    };
    expect(await (await fetch(simulator.feedUrl('northgate'))).text()).toContain(`${story.canonicalUrl}?utm_source=northgate`);
    const ledger = (await (await fetch(simulator.feedUrl('ledger'))).json()) as { articles: { canonicalUrl?: string; title: string }[] };
    expect(ledger.articles[0]).toMatchObject({ canonicalUrl: story.canonicalUrl, title: 'Microsoft wins a cloud contract' });
    await post('/sandbox/stories', { title: 'Nvidia ships a new chip', symbols: ['NVDA'], sources: ['northgate', 'harbour'], syndicated: true });
    expect(await (await fetch(simulator.feedUrl('harbour'))).text()).toContain('https://harbour.example/news/nvidia-ships-a-new-chip');
  });

  it('emits malformed items, a slow source and a failing one as configured', async () => {
    await post('/sandbox/malformed', { source: 'northgate', kind: 'no-title' });
    const rss = await (await fetch(simulator.feedUrl('northgate'))).text();
    expect(rss.split('<item>')[1]).not.toContain('<title>');
    const started = Date.now();
    expect((await fetch(simulator.feedUrl('slowwire'))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const broken = await fetch(simulator.feedUrl('brokenwire'));
    expect(broken.status).toBe(200);
    expect(await broken.text()).toContain('502 Bad Gateway');
    await fetch(`${simulator.url}/sandbox/behaviour`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ failureMode: 'error' }) });
    expect((await fetch(simulator.feedUrl('brokenwire'))).status).toBe(503);
    expect(SOURCES.brokenwire.format).toBe('rss');
  });

  it('updates an earlier story on every source that carries it', async () => {
    const story = (await (await post('/sandbox/stories', { title: 'Tesla recalls a model', symbols: ['TSLA'], sources: ['ledger'] })).json()) as { slug: string };
    const etag = (await fetch(simulator.feedUrl('ledger'))).headers.get('etag')!;
    await new Promise((r) => setTimeout(r, 5));
    const updated = (await (await post(`/sandbox/stories/${story.slug}/update`, {})).json()) as { summary: string; updatedAt: string };
    expect(updated.summary).toMatch(/^Updated: /);
    const after = await fetch(simulator.feedUrl('ledger'), { headers: { 'if-none-match': etag } });
    expect(after.status).toBe(200);
  });
});
