import { DomHandler, DomUtils, Parser } from 'htmlparser2';
import { z } from '@analytica/config';

type Node = DomHandler['root']['children'][number];
type Element = Extract<Node, { attribs: Record<string, string> }>;

/** One item of a feed, as every format reads. */
export interface FeedItem {
  guid: string;
  title: string;
  link: string;
  /** The source's own canonical URL when it gives one (the JSON API does). */
  canonicalUrl?: string;
  summary: string;
  body: string;
  publishedAt: string;
  updatedAt: string;
  topics: string[];
  tickers: string[];
  /** The picture the source gives (RSS enclosure or media:content, Atom enclosure link, JSON imageUrl), if an http(s) URL. */
  imageUrl?: string;
}

export interface MalformedItem {
  reason: string;
  /** The item as the source sent it, cut to 4 KB. */
  raw: string;
}

export interface ParsedFeed {
  items: FeedItem[];
  malformed: MalformedItem[];
}

/** The answer is no feed at all (an error page, a cut-off document): the source failed this poll. */
export class FeedError extends Error {
  override name = 'FeedError';
}

const MAX_ITEMS = 1000;
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
// A tag is `<` up to the next `>`: one pass, no backtracking.
const stripTags = (text: string) =>
  text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
const TICKER = /^[A-Z0-9][A-Z0-9.-]{0,19}$/;
const topicSlug = (text: string) =>
  text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);

/** A date a feed gives (RFC 822 or ISO 8601) as ISO 8601 UTC; undefined when it is none. */
function isoDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const time = Date.parse(text);
  if (!Number.isFinite(time)) return undefined;
  const date = new Date(time);
  if (date.getUTCFullYear() < 1990 || date.getUTCFullYear() > 9999) return undefined;
  return date.toISOString();
}

function httpUrl(text: string | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

interface Draft {
  guid?: string;
  title?: string;
  link?: string;
  canonicalUrl?: string;
  summary?: string;
  body?: string;
  published?: string;
  updated?: string;
  topics: string[];
  tickers: string[];
  image?: string;
}

/** Checks a draft; the reason when it cannot be applied. */
function finish(draft: Draft): FeedItem | string {
  const title = stripTags(draft.title ?? '');
  if (!title) return 'no title';
  const link = httpUrl(draft.link);
  if (!link) return draft.link ? `link is not an http(s) URL: ${cut(draft.link, 200)}` : 'no link';
  if (!draft.published && !draft.updated) return 'no date';
  const publishedAt = isoDate(draft.published ?? draft.updated);
  if (!publishedAt) return `date is not a date: ${cut(draft.published ?? draft.updated ?? '', 100)}`;
  const updatedAt = isoDate(draft.updated) ?? publishedAt;
  const summary = cut(stripTags(draft.summary ?? draft.body ?? ''), 1000);
  return {
    guid: cut(draft.guid?.trim() || link, 500),
    title: cut(title, 500),
    link,
    canonicalUrl: httpUrl(draft.canonicalUrl),
    summary: summary || cut(title, 1000),
    body: cut(stripTags(draft.body ?? draft.summary ?? ''), 50_000) || summary || title,
    publishedAt,
    updatedAt: updatedAt < publishedAt ? publishedAt : updatedAt,
    topics: [...new Set(draft.topics.map(topicSlug).filter((t) => /^[a-z][a-z0-9-]{0,39}$/.test(t)))].slice(0, 10),
    tickers: [...new Set(draft.tickers.map((t) => t.trim().toUpperCase()).filter((t) => TICKER.test(t)))].slice(0, 20),
    // A missing or odd image costs the article nothing: it is shown without one.
    ...(draft.image && draft.image.length <= 2000 && httpUrl(draft.image) ? { imageUrl: httpUrl(draft.image) } : {}),
  };
}

/** The first image a feed item attaches: an element with an image type (or media `medium="image"`) and a URL. */
function imageOf(elements: Element[], url: 'url' | 'href'): string | undefined {
  return elements.find((el) => /^image\//i.test(el.attribs.type ?? '') || el.attribs.medium === 'image')?.attribs[url];
}

/**
 * Parses XML with htmlparser2 in XML mode (a streaming tokenizer: linear in the text). It forgives
 * what it can, so a document whose elements it had to close itself (cut off, or an HTML error page
 * after the start of a feed) is refused here rather than read as a feed with odd items.
 */
function parseXml(text: string) {
  const handler = new DomHandler(undefined, { xmlMode: true });
  let implied = false;
  // htmlparser2 reports a self-closing tag (`<link/>`) as an implied close too: it is the close
  // that directly follows its own open tag, with nothing between.
  let justOpened: string | undefined;
  const open = handler.onopentag.bind(handler);
  const close = handler.onclosetag.bind(handler);
  const onText = handler.ontext.bind(handler);
  Object.assign(handler, {
    onopentag(name: string, attribs: Record<string, string>) {
      justOpened = name;
      open(name, attribs);
    },
    ontext(data: string) {
      justOpened = undefined;
      onText(data);
    },
    onclosetag(name: string, isImplied: boolean) {
      if (isImplied && justOpened !== name) implied = true;
      justOpened = undefined;
      close();
    },
  });
  const parser = new Parser(handler, { xmlMode: true, decodeEntities: true });
  parser.end(text);
  if (implied) throw new FeedError('the document is cut off or not well-formed');
  const roots = handler.root.children.filter((n): n is Element => DomUtils.isTag(n));
  if (roots.length !== 1) throw new FeedError('the document has no single root element');
  return roots[0]!;
}

const childElements = (el: Element) => el.children.filter((n): n is Element => DomUtils.isTag(n));
const child = (el: Element, name: string) => childElements(el).find((c) => c.name === name);
const text = (el: Element | undefined) => (el ? DomUtils.textContent(el).trim() : undefined);
const rawOf = (el: Element) => cut(DomUtils.getOuterHTML(el, { xmlMode: true }), 4096);

function collect<T>(elements: T[], read: (el: T) => Draft | string, raw: (el: T) => string): ParsedFeed {
  const feed: ParsedFeed = { items: [], malformed: [] };
  for (const el of elements.slice(0, MAX_ITEMS)) {
    const draft = read(el);
    const item = typeof draft === 'string' ? draft : finish(draft);
    if (typeof item === 'string') feed.malformed.push({ reason: item, raw: raw(el) });
    else feed.items.push(item);
  }
  return feed;
}

export function parseRss(body: string): ParsedFeed {
  const root = parseXml(body);
  const channel = root.name === 'rss' ? child(root, 'channel') : undefined;
  if (!channel) throw new FeedError(`expected <rss><channel>, found <${root.name}>`);
  const items = childElements(channel).filter((c) => c.name === 'item');
  return collect(
    items,
    (item) => {
      const categories = childElements(item).filter((c) => c.name === 'category');
      return {
        guid: text(child(item, 'guid')),
        title: text(child(item, 'title')),
        link: text(child(item, 'link')),
        summary: text(child(item, 'description')),
        body: text(child(item, 'content:encoded')),
        published: text(child(item, 'pubDate')) ?? text(child(item, 'dc:date')),
        updated: text(child(item, 'atom:updated')),
        topics: categories.filter((c) => c.attribs.domain !== 'ticker').map((c) => text(c) ?? ''),
        tickers: categories.filter((c) => c.attribs.domain === 'ticker').map((c) => text(c) ?? ''),
        image: imageOf(
          childElements(item).filter((c) => c.name === 'enclosure' || c.name === 'media:content'),
          'url',
        ),
      };
    },
    rawOf,
  );
}

export function parseAtom(body: string): ParsedFeed {
  const root = parseXml(body);
  if (root.name !== 'feed') throw new FeedError(`expected <feed>, found <${root.name}>`);
  const entries = childElements(root).filter((c) => c.name === 'entry');
  return collect(
    entries,
    (entry) => {
      const links = childElements(entry).filter((c) => c.name === 'link');
      const link = links.find((l) => !l.attribs.rel || l.attribs.rel === 'alternate');
      const categories = childElements(entry).filter((c) => c.name === 'category');
      return {
        guid: text(child(entry, 'id')),
        title: text(child(entry, 'title')),
        link: link?.attribs.href,
        summary: text(child(entry, 'summary')),
        body: text(child(entry, 'content')),
        published: text(child(entry, 'published')),
        updated: text(child(entry, 'updated')),
        topics: categories.filter((c) => c.attribs.scheme !== 'ticker').map((c) => c.attribs.term ?? ''),
        tickers: categories.filter((c) => c.attribs.scheme === 'ticker').map((c) => c.attribs.term ?? ''),
        image: imageOf(
          links.filter((l) => l.attribs.rel === 'enclosure'),
          'href',
        ),
      };
    },
    rawOf,
  );
}

const stringish = z.string().max(100_000).optional();
const JsonArticle = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  title: z.string().max(10_000),
  url: z.string().max(4000),
  canonicalUrl: z.string().max(4000).optional(),
  summary: stringish,
  body: stringish,
  publishedAt: z.string().max(100),
  updatedAt: z.string().max(100).optional(),
  topics: z.array(z.string().max(100)).max(100).optional(),
  tickers: z.array(z.string().max(100)).max(100).optional(),
  imageUrl: z.string().max(4000).optional(),
});

export function parseJsonFeed(body: string): ParsedFeed {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    throw new FeedError('the answer is not JSON');
  }
  const articles = (document as { articles?: unknown } | null)?.articles;
  if (!Array.isArray(articles)) throw new FeedError('expected { articles: [...] }');
  return collect(
    articles as unknown[],
    (entry) => {
      const parsed = JsonArticle.safeParse(entry);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return `${issue.path.join('.') || 'item'}: ${issue.message}`;
      }
      const a = parsed.data;
      return {
        guid: a.id === undefined ? undefined : String(a.id),
        title: a.title,
        link: a.url,
        canonicalUrl: a.canonicalUrl,
        summary: a.summary,
        body: a.body,
        published: a.publishedAt,
        updated: a.updatedAt,
        topics: a.topics ?? [],
        tickers: a.tickers ?? [],
        image: a.imageUrl,
      };
    },
    (entry) => cut(JSON.stringify(entry) ?? 'undefined', 4096),
  );
}

export function parseFeed(format: 'rss' | 'atom' | 'json', body: string): ParsedFeed {
  if (format === 'rss') return parseRss(body);
  if (format === 'atom') return parseAtom(body);
  return parseJsonFeed(body);
}
