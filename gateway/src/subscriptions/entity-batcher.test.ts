import type { GraphQLDataSource } from '@apollo/gateway';
import { describe, expect, it } from 'vitest';
import { createEntityBatcher } from './entity-batcher.js';

const QUERY = 'query($representations:[_Any!]!){_entities(representations:$representations){...on Quote{headline}}}';

/** A subgraph that answers each representation with its headline, and refuses symbols starting with X. */
function fakeNews() {
  const sent: { representations: { symbol: string }[]; authorization?: string }[] = [];
  const source: GraphQLDataSource = {
    async process({ request, context }) {
      const representations = request.variables!.representations as { symbol: string }[];
      sent.push({ representations, authorization: (context as { authorization?: string }).authorization });
      await new Promise((resolve) => setTimeout(resolve, 5));
      return {
        data: { _entities: representations.map((r) => (r.symbol.startsWith('X') ? null : { headline: `News about ${r.symbol}` })) },
        errors: representations.flatMap((r, i) => (r.symbol.startsWith('X') ? [{ message: `No ${r.symbol}`, path: ['_entities', i, 'headline'] }] : [])),
      } as never;
    },
  };
  return { source, sent };
}

const fetchOf = (symbols: string[], authorization = 'Bearer a') =>
  ({
    kind: 'incoming operation',
    request: { query: QUERY, variables: { representations: symbols.map((symbol) => ({ __typename: 'Quote', symbol })) } },
    context: { authorization },
  }) as never;

describe('batching the _entities fetches of subscription events', () => {
  it('sends fetches made in the same loop turn as one request and gives each its own entities', async () => {
    const news = fakeNews();
    const batcher = createEntityBatcher(news.source);
    const answers = await Promise.all([
      batcher.process(fetchOf(['AAA']), 'public'),
      batcher.process(fetchOf(['BBB', 'CCC']), 'public'),
      batcher.process(fetchOf(['DDD']), 'public'),
    ]);
    expect(news.sent.map((s) => s.representations.map((r) => r.symbol))).toEqual([['AAA', 'BBB', 'CCC', 'DDD']]);
    expect(answers.map((a) => a.data?._entities)).toEqual([
      [{ headline: 'News about AAA' }],
      [{ headline: 'News about BBB' }, { headline: 'News about CCC' }],
      [{ headline: 'News about DDD' }],
    ]);
  });

  it('renumbers the path of an error about one entity for the fetch that asked for it, and keeps it from the others', async () => {
    const news = fakeNews();
    const batcher = createEntityBatcher(news.source);
    const [first, second] = await Promise.all([batcher.process(fetchOf(['AAA']), 'public'), batcher.process(fetchOf(['BBB', 'XXX']), 'public')]);
    expect(first.errors).toBeUndefined();
    expect(second.data?._entities).toEqual([{ headline: 'News about BBB' }, null]);
    expect(second.errors).toEqual([{ message: 'No XXX', path: ['_entities', 1, 'headline'] }]);
  });

  it('never puts fetches of different scopes in one request: a private fetch goes with its own token', async () => {
    const news = fakeNews();
    const batcher = createEntityBatcher(news.source);
    await Promise.all([batcher.process(fetchOf(['AAA'], 'Bearer alice'), 'Bearer alice'), batcher.process(fetchOf(['BBB'], 'Bearer bob'), 'Bearer bob')]);
    expect(news.sent.map((s) => s.authorization).sort()).toEqual(['Bearer alice', 'Bearer bob']);
  });

  it('queues what arrives while a request is in flight for the next one, up to the size limit', async () => {
    const news = fakeNews();
    const batcher = createEntityBatcher(news.source, { maxRepresentations: 2 });
    const first = batcher.process(fetchOf(['AAA']), 'public');
    await new Promise((resolve) => setImmediate(resolve)); // AAA is on its way
    const later = ['BBB', 'CCC', 'DDD'].map((symbol) => batcher.process(fetchOf([symbol]), 'public'));
    await Promise.all([first, ...later]);
    expect(news.sent.map((s) => s.representations.map((r) => r.symbol))).toEqual([['AAA'], ['BBB', 'CCC'], ['DDD']]);
  });

  it('fails every fetch of a request the subgraph could not answer', async () => {
    const batcher = createEntityBatcher({ process: async () => Promise.reject(new Error('news is down')) });
    const results = await Promise.allSettled([batcher.process(fetchOf(['AAA']), 'public'), batcher.process(fetchOf(['BBB']), 'public')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('reports how long each request took, answered or failed', async () => {
    const news = fakeNews();
    const durations: number[] = [];
    const batcher = createEntityBatcher(news.source, { onAnswer: (seconds) => durations.push(seconds) });
    await Promise.all([batcher.process(fetchOf(['AAA']), 'public'), batcher.process(fetchOf(['BBB']), 'public')]);
    expect(durations).toHaveLength(1);
    expect(durations[0]).toBeGreaterThanOrEqual(0.004); // the fake subgraph answers after 5 ms
    expect(durations[0]).toBeLessThan(1);

    const failed: number[] = [];
    const down = createEntityBatcher({ process: async () => Promise.reject(new Error('news is down')) }, { onAnswer: (seconds) => failed.push(seconds) });
    await down.process(fetchOf(['AAA']), 'public').catch(() => {});
    expect(failed).toHaveLength(1);
  });
});
