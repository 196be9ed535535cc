import type { Instrument } from '@analytica/instruments';
import { seededRandom } from '@analytica/random';
import { SOURCE_NAMES, type SourceName } from './environment.js';

export type FeedFormat = 'rss' | 'atom' | 'json';

/** The sources: where each one serves its feed and in which format. */
export const SOURCES: Record<SourceName, { format: FeedFormat; path: string; title: string; host: string }> = {
  northgate: { format: 'rss', path: '/feeds/northgate.rss', title: 'Northgate Markets Desk', host: 'northgate.example' },
  harbour: { format: 'atom', path: '/feeds/harbour.atom', title: 'Harbour Street Journal', host: 'harbour.example' },
  ledger: { format: 'json', path: '/api/ledger/articles', title: 'The Ledger Wire', host: 'ledger.example' },
  slowwire: { format: 'rss', path: '/feeds/slowwire.rss', title: 'Slow Wire', host: 'slowwire.example' },
  brokenwire: { format: 'rss', path: '/feeds/brokenwire.rss', title: 'Broken Wire', host: 'brokenwire.example' },
};

/** One story as its newsroom wrote it; several sources may carry it. */
export interface Story {
  slug: string;
  canonicalUrl: string;
  title: string;
  summary: string;
  body: string;
  symbols: string[];
  topics: string[];
  publishedAt: string;
  updatedAt: string;
}

export type MalformedKind = 'no-title' | 'no-link' | 'bad-date';
export const MALFORMED_KINDS: readonly MalformedKind[] = ['no-title', 'no-link', 'bad-date'];

/** A story as one source lists it: its own guid and link, and possibly broken. */
export interface SourceItem {
  story: Story;
  guid: string;
  link: string;
  malformed?: MalformedKind;
}

const EVENTS = [
  { headline: '{name} shares climb after quarterly results beat forecasts', topics: ['earnings', 'markets'], move: 'rose' },
  { headline: '{name} slips as analysts trim price targets', topics: ['markets'], move: 'fell' },
  { headline: '{name} announces a larger share buyback', topics: ['markets', 'earnings'], move: 'rose' },
  { headline: 'Regulators open a review of {name} pricing', topics: ['markets', 'economy'], move: 'fell' },
  { headline: '{name} raises its full-year outlook', topics: ['earnings'], move: 'rose' },
  { headline: '{name} names a new chief financial officer', topics: ['markets'], move: 'barely moved' },
  { headline: 'Supply worries weigh on {name}', topics: ['markets', 'economy'], move: 'fell' },
];

const slugify = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);

export interface NewsroomOptions {
  seed: number;
  instruments: Instrument[];
  feedSize: number;
  duplicateShare: number;
  updateShare: number;
  malformedShare: number;
  now?: () => number;
}

/**
 * The simulated newsrooms: seeded stories about the listed instruments, each carried by one source
 * or by two (the same canonical URL with the source's tracking parameters, or a syndicated copy
 * under the second source's own URL with the same text), later updates of earlier stories, and now
 * and then an item a source emits malformed. Every change moves the source's `lastModified`.
 */
export function createNewsroom(options: NewsroomOptions) {
  const random = seededRandom(options.seed);
  const now = options.now ?? Date.now;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const items = new Map<SourceName, SourceItem[]>(SOURCE_NAMES.map((s) => [s, []]));
  const lastModified = new Map<SourceName, number>(SOURCE_NAMES.map((s) => [s, Math.floor(now() / 1000) * 1000]));
  const stories: Story[] = [];
  let counter = 0;

  function touch(source: SourceName) {
    // HTTP dates have whole seconds; a change always moves the date forward, so If-Modified-Since sees it.
    const previous = lastModified.get(source)!;
    lastModified.set(source, Math.max(Math.floor(now() / 1000) * 1000, previous + 1000));
  }

  function carry(source: SourceName, item: SourceItem) {
    const list = items.get(source)!;
    list.unshift(item);
    if (list.length > options.feedSize) list.length = options.feedSize;
    touch(source);
  }

  function itemFor(source: SourceName, story: Story, sameCanonical: boolean, malformed?: MalformedKind): SourceItem {
    const { host } = SOURCES[source];
    return {
      story,
      guid: `${host}:${story.slug}`,
      link: sameCanonical ? `${story.canonicalUrl}?utm_source=${source}&utm_medium=feed` : `https://${host}/news/${story.slug}`,
      malformed,
    };
  }

  /** Publishes a story on the given sources (the first is its home; the others share its canonical URL unless `syndicated`). */
  function publish(
    input: Partial<Pick<Story, 'title' | 'summary' | 'body' | 'topics' | 'canonicalUrl'>> & { symbols: string[]; sources: SourceName[]; syndicated?: boolean },
  ): Story {
    counter++;
    const time = new Date(now()).toISOString();
    const title = input.title ?? `Story ${counter}`;
    const slug = `${slugify(title)}-${counter}`;
    const story: Story = {
      slug,
      canonicalUrl: input.canonicalUrl ?? `https://news.example.com/${time.slice(0, 10).replaceAll('-', '/')}/${slug}`,
      title,
      summary: input.summary ?? `${title}.`,
      body: input.body ?? `${title}. More details to follow.`,
      symbols: input.symbols,
      topics: input.topics ?? ['markets'],
      publishedAt: time,
      updatedAt: time,
    };
    stories.push(story);
    input.sources.forEach((source, n) => carry(source, itemFor(source, story, n === 0 || !input.syndicated)));
    return story;
  }

  function seededStory(): Story {
    const instrument = pick(options.instruments);
    const event = pick(EVENTS);
    const title = event.headline.replace('{name}', instrument.name);
    const home = pick(SOURCE_NAMES);
    const sources: SourceName[] = [home];
    let syndicated = false;
    if (random() < options.duplicateShare) {
      sources.push(pick(SOURCE_NAMES.filter((s) => s !== home)));
      syndicated = random() < 0.5;
    }
    const malformed = random() < options.malformedShare ? pick(MALFORMED_KINDS) : undefined;
    const story = publish({
      title,
      summary: `${instrument.name} (${instrument.symbol}) ${event.move} in ${instrument.sector.toLowerCase()} trading on the news.`,
      body:
        `${title}. Shares of ${instrument.name} (${instrument.symbol}) ${event.move} as investors weighed the announcement. ` +
        `Traders said volumes on ${instrument.exchange} were above their recent average.`,
      topics: event.topics,
      symbols: [instrument.symbol],
      sources: malformed ? [home] : sources,
      syndicated,
    });
    if (malformed) items.get(home)![0]!.malformed = malformed;
    return story;
  }

  /** Changes an earlier story: a new summary and updatedAt on every source that carries it. */
  function update(story: Story): Story {
    story.updatedAt = new Date(now()).toISOString();
    story.summary = `Updated: ${story.summary.replace(/^Updated: /, '')}`;
    story.body = `${story.body.split(' Update at ')[0]} Update at ${story.updatedAt}: the company declined to comment further.`;
    for (const [source, list] of items) if (list.some((item) => item.story === story)) touch(source);
    return story;
  }

  return {
    publish,
    update,
    /** Adds a malformed item to a source. */
    malformed(source: SourceName, kind: MalformedKind): SourceItem {
      counter++;
      const time = new Date(now()).toISOString();
      const story: Story = {
        slug: `broken-item-${counter}`,
        canonicalUrl: `https://news.example.com/broken/${counter}`,
        title: `Broken item ${counter}`,
        summary: 'This item is malformed on purpose.',
        body: 'This item is malformed on purpose.',
        symbols: [],
        topics: ['markets'],
        publishedAt: time,
        updatedAt: time,
      };
      const item = itemFor(source, story, true, kind);
      carry(source, item);
      return item;
    },
    /** The next seeded event: usually a new story, sometimes an update of an earlier one. */
    step(): { kind: 'story' | 'update'; story: Story } {
      if (stories.length > 0 && random() < options.updateShare) return { kind: 'update', story: update(pick(stories.slice(-20))) };
      return { kind: 'story', story: seededStory() };
    },
    items: (source: SourceName): readonly SourceItem[] => items.get(source)!,
    lastModified: (source: SourceName) => lastModified.get(source)!,
    stories: (): readonly Story[] => stories,
  };
}
export type Newsroom = ReturnType<typeof createNewsroom>;
