import { describe, expect, it } from 'vitest';
import { ConfigError } from '@analytica/config';
import { DEMO_WATCHLIST, venueLines } from './demo.js';
import { embeddedFeedEnv, parseEmbeddedEnv } from './embedded-env.js';

const common = { LOG_LEVEL: 'silent', DATABASE_URL: 'postgres://postgres@127.0.0.1:54329/postgres' };
const feedEnv = (source: Record<string, string | undefined>) => embeddedFeedEnv(source, '/tmp/data', common, 4012);

describe("npm start's market feed settings", () => {
  it('share 15 ticks/s and give the demo watchlist and the pairs that never close a tick a second each', async () => {
    const env = await feedEnv({});
    expect(env).toMatchObject({ FEED_TICKS_PER_SECOND: 15, FEED_TICKS_PER_SYMBOL: 1, FEED_ALWAYS_OPEN: false, FEED_STATE_FILE: '/tmp/data/market-feed.json', PORT: 4012 });
    expect(env.FEED_STEADY_SYMBOLS).toEqual(expect.arrayContaining([...DEMO_WATCHLIST, 'BTC-USD', 'ETH-USD', 'SOL-USD', 'EUR-USD', 'GBP-USD', 'USD-JPY']));
    expect(DEMO_WATCHLIST).toContain('BTC-USD');
  });

  it('honour the FEED_* variables of the environment, and an empty one drops its default', async () => {
    const env = await feedEnv({ FEED_ALWAYS_OPEN: 'true', FEED_TICKS_PER_SECOND: '', FEED_TICKS_PER_SYMBOL: '2', FEED_STEADY_SYMBOLS: 'btc-usd' });
    expect(env.FEED_ALWAYS_OPEN).toBe(true);
    expect(env.FEED_TICKS_PER_SECOND).toBeUndefined();
    expect(env.FEED_TICKS_PER_SYMBOL).toBe(2);
    expect(env.FEED_STEADY_SYMBOLS).toEqual(['btc-usd']);
  });

  it('stop the start with a ConfigError naming a bad variable, a malformed value or an unknown symbol alike', async () => {
    await expect(feedEnv({ FEED_TICKS_PER_SYMBOL: 'fast' })).rejects.toThrow(ConfigError);
    await expect(feedEnv({ FEED_TICKS_PER_SYMBOL: 'fast' })).rejects.toThrow(/FEED_TICKS_PER_SYMBOL is "fast"/);
    await expect(feedEnv({ FEED_STEADY_SYMBOLS: 'AAPL,DOGE-USD' })).rejects.toThrow(/FEED_STEADY_SYMBOLS names "DOGE-USD"/);
    await expect(feedEnv({ FEED_SYMBOLS: 'AAPL' })).rejects.toThrow(/FEED_STEADY_SYMBOLS names "MSFT", which this feed does not trade/);
  });
});

describe("npm start's own variables", () => {
  it('have the documented defaults and refuse a port out of range, naming it', () => {
    expect(parseEmbeddedEnv({})).toEqual({
      LOG_LEVEL: 'warn',
      ANALYTICA_DATA_DIR: '.data/embedded',
      PORT: 4000,
      EMBEDDED_PORT_OFFSET: 0,
      EMBEDDED_POSTGRES_PORT: 54329,
      EMBEDDED_DYNAMODB_PORT: 45670,
      EMBEDDED_SMTP_PORT: 2525,
      EMBEDDED_MAIL_PORT: 4025,
      EMBEDDED_WEB_APP_PORT: 5173,
    });
    expect(() => parseEmbeddedEnv({ EMBEDDED_POSTGRES_PORT: '70000' })).toThrow(/EMBEDDED_POSTGRES_PORT is "70000"/);
    expect(() => parseEmbeddedEnv({ EMBEDDED_WEB_APP_PORT: '0' })).toThrow(/EMBEDDED_WEB_APP_PORT is "0"/);
    expect(() => parseEmbeddedEnv({ EMBEDDED_PORT_OFFSET: '-1' })).toThrow(/EMBEDDED_PORT_OFFSET/);
  });
});

describe('the banner on the market', () => {
  it('names the venues open now and groups the closed ones by when they open (UTC)', () => {
    const lines = venueLines(new Date('2026-12-05T10:00:00Z'), false); // a Saturday
    expect(lines[0]).toBe('Venues open now:   XOFF (crypto and currency pairs, never closes)');
    expect(lines[1]).toBe('Next opens (UTC):  Sun 2026-12-06 23:00  XASX');
    expect(lines.at(-1)).toBe('                   Mon 2026-12-07 14:30  XNYS, XNAS');
    expect(venueLines(new Date('2026-12-07T15:00:00Z'), false)[0]).toBe(
      'Venues open now:   XNYS, XNAS, XLON, XETR, XPAR, XAMS, XBRU, XMIL, XMAD, XSWX, XSTO, XCSE, XHEL, XOSL, XOFF (crypto and currency pairs, never closes)',
    );
    expect(venueLines(new Date(), true)).toEqual(['Venues open now:   all of them, around the clock (FEED_ALWAYS_OPEN=true)']);
  });
});
