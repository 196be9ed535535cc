import { describe, expect, it } from 'vitest';
import { nextDelay } from './poller.js';
import { FeedError, parseAtom, parseJsonFeed, parseRss } from './parse.js';
import { canonicalUrl, contentHash } from './store.js';

const rss = (items: string) => `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>${items}</channel></rss>`;

describe('feed parsing', () => {
  it('reads the image an item attaches in each format, and only an http(s) image', () => {
    const item = (extra: string, n: number) => `<item><title>T${n}</title><link>https://x.example/${n}</link><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate>${extra}</item>`;
    const fromRss = parseRss(
      rss(
        item('<enclosure url="https://img.example/1.png" length="100" type="image/png"/>', 1) +
          item('<media:content url="https://img.example/2.jpg" medium="image"/>', 2) +
          item('<enclosure url="https://img.example/3.mp3" type="audio/mpeg"/>', 3) +
          item('<enclosure url="javascript:alert(1)" type="image/png"/>', 4),
      ),
    );
    expect(fromRss.items.map((i) => i.imageUrl)).toEqual(['https://img.example/1.png', 'https://img.example/2.jpg', undefined, undefined]);
    const fromAtom = parseAtom(
      `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title>T</title><link rel="alternate" href="https://x.example/a"/>` +
        `<link rel="enclosure" type="image/webp" href="https://img.example/a.webp"/><updated>2026-12-01T10:00:00Z</updated></entry></feed>`,
    );
    expect(fromAtom.items[0]).toMatchObject({ link: 'https://x.example/a', imageUrl: 'https://img.example/a.webp' });
    const fromJson = parseJsonFeed(
      JSON.stringify({ articles: [{ title: 'T', url: 'https://x.example/j', publishedAt: '2026-12-01T10:00:00Z', imageUrl: 'https://img.example/j.gif' }] }),
    );
    expect(fromJson.items[0]!.imageUrl).toBe('https://img.example/j.gif');
  });

  it('reads RSS items with tickers and topics, and keeps malformed ones apart with a reason', () => {
    const feed = parseRss(
      rss(
        `<item><title>Apple &amp; friends</title><link>https://x.example/a</link><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate>` +
          `<description><![CDATA[<p>Short</p>]]></description><category>Markets</category><category domain="ticker">aapl</category></item>` +
          `<item><link>https://x.example/b</link><pubDate>Tue, 01 Dec 2026 10:00:00 GMT</pubDate></item>` +
          `<item><title>Bad date</title><link>https://x.example/c</link><pubDate>sometime</pubDate></item>`,
      ),
    );
    expect(feed.items).toEqual([
      expect.objectContaining({
        title: 'Apple & friends',
        link: 'https://x.example/a',
        summary: 'Short',
        topics: ['markets'],
        tickers: ['AAPL'],
        publishedAt: '2026-12-01T10:00:00.000Z',
      }),
    ]);
    expect(feed.malformed.map((m) => m.reason)).toEqual(['no title', 'date is not a date: sometime']);
  });

  it('reads Atom entries with self-closing links', () => {
    const feed = parseAtom(
      `<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title><link rel="alternate" href="https://x.example/a"/><id>urn:1</id>` +
        `<updated>2026-12-01T10:00:00Z</updated><category scheme="ticker" term="MSFT"/></entry></feed>`,
    );
    expect(feed.items).toEqual([expect.objectContaining({ guid: 'urn:1', link: 'https://x.example/a', tickers: ['MSFT'] })]);
  });

  it('refuses a cut-off document, an HTML page and JSON that is no feed, as the whole answer', () => {
    expect(() => parseRss('<rss version="2.0"><channel><item><title>Unterminated <html><body>502</body></html>')).toThrow(FeedError);
    expect(() => parseRss('<html><body>Not here</body></html>')).toThrow(FeedError);
    expect(() => parseJsonFeed('{"articles": 3}')).toThrow(FeedError);
    expect(() => parseJsonFeed('<html>')).toThrow(FeedError);
  });

  it('reads JSON articles and names the field of a malformed one', () => {
    const feed = parseJsonFeed(
      JSON.stringify({
        articles: [
          { title: 42, url: 'https://x.example/a', publishedAt: '2026-12-01T10:00:00Z' },
          { title: 'Ok', url: 'https://x.example/b', publishedAt: '2026-12-01T10:00:00Z' },
        ],
      }),
    );
    expect(feed.items.map((i) => i.title)).toEqual(['Ok']);
    expect(feed.malformed[0]!.reason).toMatch(/^title: /);
  });
});

describe('deduplication keys and backoff', () => {
  it('gives one canonical URL for the tracking variants of a link, and one hash for the same text in other markup', () => {
    expect(canonicalUrl('http://WWW.News.example.com/a/b/?utm_source=x&b=2&a=1#top')).toBe('https://news.example.com/a/b?a=1&b=2');
    expect(contentHash({ title: 'Apple  rises!', body: 'Shares rose.' })).toBe(contentHash({ title: 'apple rises', body: 'Shares   rose' }));
  });

  it('doubles the wait per failure up to the cap', () => {
    const exact = () => 0.5;
    expect(nextDelay(1000, 0, 60_000, exact)).toBe(1000);
    expect(nextDelay(1000, 3, 60_000, exact)).toBe(8000);
    expect(nextDelay(1000, 20, 60_000, exact)).toBe(60_000);
  });
});
