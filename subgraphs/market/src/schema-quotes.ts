import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, Float, Int, ObjectType, Query, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { badInput } from '@analytica/errors';
import { subscribeThroughGateway } from '@analytica/subgraph';
import { checkCandleRequest, readCandles, type Candle, type CandleInterval } from './candles.js';
import { requireInstrument, requireRegion, searchInstruments, type Instrument, type Region } from './instruments.js';
import { MAX_MOVERS, moverQuotes, type MoverDirection } from './movers.js';
import type { MarketState, Quote } from './quotes.js';
import { nextOpen, venueStatus } from './venues.js';
import type { MarketContext } from './schema.js';

export const MAX_QUOTES_PER_REQUEST = 50;
const MAX_SEARCH_RESULTS = 100;

export enum RegionEnum {
  US = 'US',
  EU = 'EU',
  APAC = 'APAC',
  GLOBAL = 'GLOBAL',
}
registerEnumType(RegionEnum, {
  name: 'Region',
  description: 'Where an instrument is listed; market data is sharded by it.',
  valuesConfig: { GLOBAL: { description: 'Crypto and currency pairs: traded over the counter around the clock, in no one region.' } },
});

enum MarketStateEnum {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}
registerEnumType(MarketStateEnum, { name: 'MarketState', description: 'Whether the listing venue is trading.' });

enum MoverDirectionEnum {
  GAINERS = 'GAINERS',
  LOSERS = 'LOSERS',
}
registerEnumType(MoverDirectionEnum, { name: 'MoverDirection', description: 'Biggest rises or biggest falls since the previous close.' });

// Public market data: the same for every signed-in caller, so the gateway shares one execution of
// a quote subscription among all its subscribers (see docs/ARCHITECTURE.md, subscriptions).
@Directive('@key(fields: "symbol")')
@Directive('@tag(name: "public")')
@ObjectType('Quote', {
  description:
    'The latest quote of an instrument. Prices are market data in the instrument currency (floats), not money held; positions and payments use Money.',
})
export class QuoteType {
  @Field(() => String) symbol!: string;
  @Field(() => String, { description: 'ISO 4217 code the prices are in.' }) currency!: string;
  @Field(() => Float, { description: 'Last traded price.' }) last!: number;
  @Field(() => Float) bid!: number;
  @Field(() => Float) ask!: number;
  @Field(() => Float, { description: "Price of the session's first trade." }) open!: number;
  @Field(() => Float) high!: number;
  @Field(() => Float) low!: number;
  @Field(() => Float, { description: "Last price of the previous session; change is measured from it." }) previousClose!: number;
  @Field(() => Float, { description: 'last - previousClose.' }) change!: number;
  @Field(() => Float, { description: 'change as a percentage of previousClose, e.g. 1.25 for +1.25 %.' }) changePercent!: number;
  @Field(() => GraphQLSafeInt, {
    description: 'Traded this session: shares, or for a pair units of its first currency (coins for crypto). A pair\'s session is the UTC day.',
  })
  volume!: number;
  @Field(() => GraphQLDateTimeISO, {
    nullable: true,
    description: 'When the last trade happened, as the venue reported it (UTC); null while the quote is only the reference price seeded before any trade.',
  })
  time!: Date | null;
  @Field(() => MarketStateEnum, {
    description: 'Whether the venue is trading, as the market feed last reported it (it reports each open and close). Instrument.marketState is the scheduled state.',
  })
  marketState!: MarketState;
  @Field(() => Boolean, {
    description:
      "True when live prices could not be read and the quote was rebuilt from the last stored daily candle: bid and ask are then the last price and marketState is the venue's scheduled state.",
  })
  stale!: boolean;
}

@Directive('@key(fields: "symbol")')
@Directive('@tag(name: "public")')
@ObjectType('Instrument', { description: 'A listed security that can be quoted and watched.' })
export class InstrumentType {
  @Field(() => String, { description: 'As the venue lists it, with its suffix outside the US: AAPL, SAP.DE, 7203.T.' }) symbol!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'ISO 10383 market identifier code of the listing venue, e.g. XNAS; XOFF (over the counter) for crypto and currency pairs.' }) exchange!: string;
  @Field(() => RegionEnum) region!: Region;
  @Field(() => String, { description: 'ISO 4217 code of the quote currency.' }) currency!: string;
  @Field(() => String, { description: 'GICS sector, e.g. Information Technology; Cryptocurrency or Currency for the pairs.' }) sector!: string;
}

@Directive('@tag(name: "public")')
@ObjectType('Candle', { description: 'Open, high, low, close and volume of the trades in one time bucket.' })
class CandleType {
  @Field(() => String) symbol!: string;
  @Field(() => String, { description: '1m, 5m, 1h or 1d.' }) interval!: CandleInterval;
  @Field(() => GraphQLDateTimeISO, {
    description: "Start of the bucket (UTC). A daily candle is the venue's trading session, dated by its local trading date at 00:00Z.",
  })
  start!: Date;
  @Field(() => Float) open!: number;
  @Field(() => Float) high!: number;
  @Field(() => Float) low!: number;
  @Field(() => Float) close!: number;
  @Field(() => GraphQLSafeInt, { description: 'Shares traded in the bucket.' }) volume!: number;
  @Field(() => Int, { description: 'Number of trades in the bucket.' }) trades!: number;
}

@Resolver(() => InstrumentType)
export class InstrumentResolver {
  @Authorized()
  @Query(() => InstrumentType, { description: 'One instrument; an unknown symbol is BAD_USER_INPUT.' })
  instrument(@Arg('symbol', () => String) symbol: string, @Ctx() ctx: MarketContext): Instrument {
    return requireInstrument(ctx.catalogue, symbol, 'symbol');
  }

  @Authorized()
  @Query(() => [InstrumentType], { description: 'Instruments whose symbol or name matches, best matches first.' })
  searchInstruments(
    @Arg('query', () => String, { nullable: true, description: 'Part of a symbol or name; omit to list by filters only.' }) query: string | undefined,
    @Arg('region', () => RegionEnum, { nullable: true }) region: Region | undefined,
    @Arg('sector', () => String, { nullable: true, description: 'GICS sector name, any letter case.' }) sector: string | undefined,
    @Arg('first', () => Int, { defaultValue: 20 }) first: number,
    @Ctx() ctx: MarketContext,
  ): Instrument[] {
    if (first < 1 || first > MAX_SEARCH_RESULTS) throw badInput('first', `Ask for 1 to ${MAX_SEARCH_RESULTS} results.`);
    if (query && query.length > 100) throw badInput('query', 'Search with at most 100 characters.');
    return searchInstruments(ctx.catalogue, { query, region, sector, first });
  }

  @Authorized()
  @FieldResolver(() => QuoteType, { nullable: true, description: 'Null only while no price has been seen for it.' })
  quote(@Root() instrument: Instrument, @Ctx() ctx: MarketContext): Promise<Quote | null> {
    return ctx.quotes.load(instrument.symbol);
  }

  @Authorized()
  @FieldResolver(() => MarketStateEnum, {
    description: "Whether the venue's regular session is on now, by its published hours (weekends closed, public holidays not modelled).",
  })
  marketState(@Root() instrument: Instrument): MarketState {
    return venueStatus(instrument.exchange, new Date()).state;
  }

  @Authorized()
  @FieldResolver(() => GraphQLDateTimeISO, {
    nullable: true,
    description: 'When the closed venue opens next, a lunch break\'s end included (UTC); null while it is open, and always for a pair that trades around the clock.',
  })
  nextOpen(@Root() instrument: Instrument): Date | null {
    return nextOpen(instrument.exchange, new Date());
  }
}

@Resolver(() => QuoteType)
export class QuoteResolver {
  @Authorized()
  @Query(() => QuoteType, { nullable: true, description: 'The latest quote; an unknown symbol is BAD_USER_INPUT.' })
  quote(@Arg('symbol', () => String) symbol: string, @Ctx() ctx: MarketContext): Promise<Quote | null> {
    return ctx.quotes.load(requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
  }

  @Authorized()
  @Query(() => [QuoteType], {
    nullable: 'items',
    description: `Latest quotes in the order asked (at most ${MAX_QUOTES_PER_REQUEST} symbols), read in one round trip.`,
  })
  quotes(@Arg('symbols', () => [String]) symbols: string[], @Ctx() ctx: MarketContext): Promise<(Quote | null)[]> {
    if (symbols.length > MAX_QUOTES_PER_REQUEST) {
      throw badInput('symbols', `Ask for at most ${MAX_QUOTES_PER_REQUEST} symbols at a time; this asked for ${symbols.length}.`);
    }
    const instruments = symbols.map((s) => requireInstrument(ctx.catalogue, s, 'symbols'));
    return loadAll(ctx, instruments.map((i) => i.symbol));
  }

  @Authorized()
  @Query(() => [QuoteType], {
    description: `The instruments of a region that rose (GAINERS) or fell (LOSERS) most since their previous close, at most ${MAX_MOVERS}.`,
  })
  async movers(
    @Arg('region', () => String, { description: 'US, EU, APAC or GLOBAL (the crypto and currency pairs).' }) region: string,
    @Arg('direction', () => MoverDirectionEnum, { defaultValue: MoverDirectionEnum.GAINERS }) direction: MoverDirection,
    @Arg('limit', () => Int, { defaultValue: 10 }) limit: number,
    @Ctx() ctx: MarketContext,
  ): Promise<Quote[]> {
    // The same reading as the live Movers entity's (schema-live.ts).
    return moverQuotes(ctx, requireRegion(region, 'region'), direction, limit);
  }

  @Authorized()
  @Query(() => [CandleType], {
    description:
      'Candles of one instrument, oldest first, whose bucket starts between from and to (the bucket holding from included). At most 24 hours of 1m, 7 days of 5m, 90 days of 1h or 5 years of 1d candles per request.',
  })
  candles(
    @Arg('symbol', () => String) symbol: string,
    @Arg('interval', () => String, { description: '1m, 5m, 1h or 1d.' }) interval: string,
    @Arg('from', () => GraphQLDateTimeISO) from: Date,
    @Arg('to', () => GraphQLDateTimeISO, { nullable: true, description: 'Defaults to now.' }) to: Date | undefined,
    @Ctx() ctx: MarketContext,
  ): Promise<Candle[]> {
    const instrument = requireInstrument(ctx.catalogue, symbol, 'symbol');
    const until = to ?? new Date();
    return readCandles(ctx.candles, instrument, checkCandleRequest(interval, from, until), from, until);
  }

  @FieldResolver(() => InstrumentType)
  instrument(@Root() quote: Quote, @Ctx() ctx: MarketContext): Instrument {
    return requireInstrument(ctx.catalogue, quote.symbol, 'symbol');
  }
}

async function loadAll(ctx: MarketContext, symbols: string[]): Promise<(Quote | null)[]> {
  return (await ctx.quotes.loadMany(symbols)).map((r) => {
    if (r instanceof Error) throw r;
    return r;
  });
}

/**
 * Live quotes. The gateway serves these: the ingest worker publishes every quote change of a
 * symbol on the Redis channel `Quote.<symbol>` (quoteChannel) with all of Quote's own fields, and
 * the gateway fetches anything else selected (such as `instrument`) per event.
 */
@Resolver()
export class QuoteSubscription {
  @Directive('@tag(name: "public")')
  @Subscription(() => QuoteType, { subscribe: subscribeThroughGateway, description: 'The quote of one symbol each time it changes.' })
  quote(@Arg('symbol', () => String) _symbol: string, @Root() quote: Quote): Quote {
    return quote;
  }

  @Directive('@tag(name: "public")')
  @Subscription(() => QuoteType, {
    subscribe: subscribeThroughGateway,
    description: 'The quote of any of these symbols each time it changes (bursts of one symbol may arrive coalesced to the latest).',
  })
  quotes(@Arg('symbols', () => [String]) _symbols: string[], @Root() quote: Quote): Quote {
    return quote;
  }
}
