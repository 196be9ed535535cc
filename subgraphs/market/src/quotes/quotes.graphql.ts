import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, Float, ID, ObjectType, Query, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { ANY_CALLER, requireCaller } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import { nextOpen, venueStatus, type Instrument, type MarketState } from '@analytica/instruments';
import { subscribeThroughGateway } from '@analytica/subgraph';
import type { MarketContext } from '../context.js';
import { requireInstrument } from '../instruments/instruments.js';
import { InstrumentType } from '../instruments/instruments.graphql.js';
import type { Quote } from '../store/quote-codec.js';

export const MAX_QUOTES_PER_REQUEST = 50;

enum MarketStateEnum {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}
registerEnumType(MarketStateEnum, {
  name: 'MarketState',
  description: 'Whether the listing venue is trading.',
  valuesConfig: {
    OPEN: { description: "The venue's regular session is on: prices move." },
    CLOSED: { description: 'Outside the regular session (nights, weekends, lunch breaks): prices hold until the next open.' },
  },
});

// Public market data: the same for every signed-in caller, so the gateway shares one execution of
// a quote subscription among all its subscribers (see docs/ARCHITECTURE.md, subscriptions).
@Directive('@key(fields: "symbol")')
@Directive('@tag(name: "public")')
@ObjectType('Quote', {
  description: 'The latest quote of an instrument. Prices are market data in the instrument currency (floats), not money held; positions and payments use Money.',
})
export class QuoteType {
  @Field(() => String) symbol!: string;
  @Field(() => String, { description: 'ISO 4217 code the prices are in.' }) currency!: string;
  @Field(() => Float, { description: 'Last traded price.' }) last!: number;
  @Field(() => Float, { description: "Best price a buyer offers, in the instrument's currency." }) bid!: number;
  @Field(() => Float, { description: "Best price a seller asks, in the instrument's currency." }) ask!: number;
  @Field(() => Float, { description: "Price of the session's first trade." }) open!: number;
  @Field(() => Float, { description: 'Highest traded price this session.' }) high!: number;
  @Field(() => Float, { description: 'Lowest traded price this session.' }) low!: number;
  @Field(() => Float, { description: 'Last price of the previous session; change is measured from it.' }) previousClose!: number;
  @Field(() => Float, { description: 'last - previousClose.' }) change!: number;
  @Field(() => Float, { description: 'change as a percentage of previousClose, e.g. 1.25 for +1.25 %.' }) changePercent!: number;
  @Field(() => GraphQLSafeInt, {
    description: "Traded this session: shares, or for a pair units of its first currency (coins for crypto). A pair's session is the UTC day.",
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

/** An instrument's live side: its quote, and whether its venue trades now or when it opens next. */
@Resolver(() => InstrumentType)
export class InstrumentMarketResolver {
  @Authorized(ANY_CALLER)
  @FieldResolver(() => QuoteType, { nullable: true, description: 'Null only while no price has been seen for it.' })
  quote(@Root() instrument: Instrument, @Ctx() ctx: MarketContext): Promise<Quote | null> {
    return ctx.quotes.load(instrument.symbol);
  }

  @Authorized(ANY_CALLER)
  @FieldResolver(() => MarketStateEnum, {
    description: "Whether the venue's regular session is on now, by its published hours (weekends closed, public holidays not modelled).",
  })
  marketState(@Root() instrument: Instrument): MarketState {
    return venueStatus(instrument.exchange, new Date()).state;
  }

  @Authorized(ANY_CALLER)
  @FieldResolver(() => GraphQLDateTimeISO, {
    nullable: true,
    description: "When the closed venue opens next, a lunch break's end included (UTC); null while it is open, and always for a pair that trades around the clock.",
  })
  nextOpen(@Root() instrument: Instrument): Date | null {
    return nextOpen(instrument.exchange, new Date());
  }
}

// Public market data: any verified caller, partner apps' own tokens included.
@Resolver(() => QuoteType)
export class QuoteResolver {
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => QuoteType, { nullable: true, description: 'The latest quote; an unknown symbol is BAD_USER_INPUT.' })
  quote(@Arg('symbol', () => String, { description: 'The symbol, e.g. AAPL, SAP.DE or BTC-USD.' }) symbol: string, @Ctx() ctx: MarketContext): Promise<Quote | null> {
    return ctx.quotes.load(requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
  }

  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => [QuoteType], {
    nullable: 'items',
    description: `Latest quotes in the order asked (at most ${MAX_QUOTES_PER_REQUEST} symbols), read in one round trip.`,
  })
  quotes(
    @Arg('symbols', () => [String], { description: '1 to 50 symbols; the answer has one quote per symbol, in the same order.' }) symbols: string[],
    @Ctx() ctx: MarketContext,
  ): Promise<(Quote | null)[]> {
    if (symbols.length > MAX_QUOTES_PER_REQUEST) {
      throw badInput('symbols', `Ask for at most ${MAX_QUOTES_PER_REQUEST} symbols at a time; this asked for ${symbols.length}.`);
    }
    const instruments = symbols.map((s) => requireInstrument(ctx.catalogue, s, 'symbols'));
    return loadAll(
      ctx,
      instruments.map((i) => i.symbol),
    );
  }

  @FieldResolver(() => ID, {
    description: "The quote's stable identity: its instrument's symbol, as Instrument.id (a client cache keeps one Quote per symbol, which every update replaces).",
  })
  id(@Root() quote: Quote): string {
    return quote.symbol;
  }

  @FieldResolver(() => InstrumentType, { description: 'The instrument quoted.' })
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
  quote(@Arg('symbol', () => String, { description: 'The symbol, e.g. BTC-USD.' }) _symbol: string, @Root() quote: Quote): Quote {
    return quote;
  }

  @Directive('@tag(name: "public")')
  @Subscription(() => QuoteType, {
    subscribe: subscribeThroughGateway,
    description: 'The quote of any of these symbols each time it changes (bursts of one symbol may arrive coalesced to the latest).',
  })
  quotes(@Arg('symbols', () => [String], { description: '1 to 50 symbols.' }) _symbols: string[], @Root() quote: Quote): Quote {
    return quote;
  }
}

/** `_entities` for a Quote: public market data, for any verified caller (partner apps too); an unknown symbol is BAD_USER_INPUT. */
export function quoteReference(reference: { symbol: string }, ctx: MarketContext): Promise<Quote | null> {
  requireCaller(ctx);
  return ctx.quotes.load(requireInstrument(ctx.catalogue, reference.symbol, 'symbol').symbol);
}
