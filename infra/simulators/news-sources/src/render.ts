import type { SourceName } from './environment.js';
import { SOURCES, type SourceItem } from './newsroom.js';

const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
const rfc822 = (iso: string) => new Date(iso).toUTCString();

/**
 * The picture every story offers (the same small PNG for all: the simulator is about feeds, not
 * photography). Served at `/images/<slug>.png` on the simulator, so the URL in a feed is one the
 * news service can fetch.
 */
export const STORY_IMAGE = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAGAAAAA2CAIAAAC3LQuFAAABIElEQVR4nO3TvQ3CQBiDYfagZwP2oWMEWloqpIzChBShQCLc5XLfT2yf5Ake+T2cjvfEXV63xE3Xc3UHTZ01NJlA+z9OJhCQTgIQEE0CEJxOHBBWVtFAoDRBQNA6vkC4WUUAceh4AXHQuADRHMcFiE/HEoiPxhKIVccAiDIrMyBuml4gBZ2NQPRZdQFJ6TQDSdG0Aakdpw1IVufxnOpAmjSzTh1IXKcEpJzV95aBNGl+dZaBhs5foJFVCWjolIA0aao6H6ChUwLS1FlDkwm0/+NkAgHpJAAB0SQAwenEAWFlFQ0EShMEBK3jC4SbVQQQh44XEAeNCxDNcVyA+HQsgfhoLIFYdQyAKLMyA+Km6QVS0NkIRJ9VF5CUTjOQFM28NyQ3oDEZSkNiAAAAAElFTkSuQmCC',
  'base64',
);
export const imageUrlOf = (imageBase: string, slug: string) => `${imageBase}/images/${encodeURIComponent(slug)}.png`;

/** RSS 2.0: tickers as `<category domain="ticker">`, topics as plain categories, the picture as an `<enclosure>`. */
export function renderRss(source: SourceName, items: readonly SourceItem[], lastModified: number, imageBase?: string): string {
  const meta = SOURCES[source];
  const entries = items.map(({ story, guid, link, malformed }) => {
    const lines = [
      malformed === 'no-title' ? '' : `<title>${escapeXml(story.title)}</title>`,
      malformed === 'no-link' ? '' : `<link>${escapeXml(link)}</link>`,
      `<guid isPermaLink="false">${escapeXml(guid)}</guid>`,
      `<description>${escapeXml(story.summary)}</description>`,
      `<content:encoded><![CDATA[${story.body.replaceAll(']]>', ']]&gt;')}]]></content:encoded>`,
      `<pubDate>${malformed === 'bad-date' ? 'sometime last week' : rfc822(story.publishedAt)}</pubDate>`,
      `<atom:updated>${story.updatedAt}</atom:updated>`,
      ...story.topics.map((t) => `<category>${escapeXml(t)}</category>`),
      ...story.symbols.map((s) => `<category domain="ticker">${escapeXml(s)}</category>`),
      imageBase ? `<enclosure url="${escapeXml(imageUrlOf(imageBase, story.slug))}" length="${STORY_IMAGE.length}" type="image/png"/>` : '',
    ];
    return `<item>${lines.filter(Boolean).join('')}</item>`;
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom"><channel>` +
    `<title>${escapeXml(meta.title)}</title><link>https://${meta.host}/</link><description>${escapeXml(meta.title)}</description>` +
    `<lastBuildDate>${new Date(lastModified).toUTCString()}</lastBuildDate>${entries.join('\n')}</channel></rss>\n`
  );
}

/** Atom 1.0: tickers as `<category scheme="ticker">`, the picture as `<link rel="enclosure">`. */
export function renderAtom(source: SourceName, items: readonly SourceItem[], lastModified: number, imageBase?: string): string {
  const meta = SOURCES[source];
  const entries = items.map(({ story, guid, link, malformed }) => {
    const lines = [
      malformed === 'no-title' ? '' : `<title>${escapeXml(story.title)}</title>`,
      malformed === 'no-link' ? '' : `<link rel="alternate" href="${escapeXml(link)}"/>`,
      `<id>urn:${escapeXml(guid)}</id>`,
      `<published>${malformed === 'bad-date' ? 'yesterday-ish' : story.publishedAt}</published>`,
      `<updated>${malformed === 'bad-date' ? 'yesterday-ish' : story.updatedAt}</updated>`,
      `<summary>${escapeXml(story.summary)}</summary>`,
      `<content type="text">${escapeXml(story.body)}</content>`,
      ...story.topics.map((t) => `<category term="${escapeXml(t)}"/>`),
      ...story.symbols.map((s) => `<category scheme="ticker" term="${escapeXml(s)}"/>`),
      imageBase ? `<link rel="enclosure" type="image/png" href="${escapeXml(imageUrlOf(imageBase, story.slug))}"/>` : '',
    ];
    return `<entry>${lines.filter(Boolean).join('')}</entry>`;
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">` +
    `<title>${escapeXml(meta.title)}</title><id>urn:${meta.host}</id><updated>${new Date(lastModified).toISOString()}</updated>` +
    `${entries.join('\n')}</feed>\n`
  );
}

/** The JSON API: `{ source, articles: [...] }`, the picture as `imageUrl`. */
export function renderJson(source: SourceName, items: readonly SourceItem[], imageBase?: string): string {
  return JSON.stringify({
    source: SOURCES[source].title,
    articles: items.map(({ story, guid, link, malformed }) => ({
      id: guid,
      ...(malformed === 'no-title' ? { title: 42 } : { title: story.title }),
      ...(malformed === 'no-link' ? {} : { url: link, canonicalUrl: link === story.canonicalUrl || link.startsWith(`${story.canonicalUrl}?`) ? story.canonicalUrl : undefined }),
      summary: story.summary,
      body: story.body,
      publishedAt: malformed === 'bad-date' ? 'not a date' : story.publishedAt,
      updatedAt: story.updatedAt,
      topics: story.topics,
      tickers: story.symbols,
      ...(imageBase ? { imageUrl: imageUrlOf(imageBase, story.slug) } : {}),
    })),
  });
}

/** `imageBase`: the simulator's own origin as the client reached it, for the stories' image URLs. */
export function render(source: SourceName, items: readonly SourceItem[], lastModified: number, imageBase?: string): { body: string; contentType: string } {
  switch (SOURCES[source].format) {
    case 'rss':
      return { body: renderRss(source, items, lastModified, imageBase), contentType: 'application/rss+xml; charset=utf-8' };
    case 'atom':
      return { body: renderAtom(source, items, lastModified, imageBase), contentType: 'application/atom+xml; charset=utf-8' };
    case 'json':
      return { body: renderJson(source, items, imageBase), contentType: 'application/json; charset=utf-8' };
  }
}

/** What a broken source answers with status 200: the start of a feed, then an HTML error page. */
export const GARBAGE = '<?xml version="1.0"?><rss version="2.0"><channel><item><title>Unterminated\n<html><body>502 Bad Gateway</body></html>';
