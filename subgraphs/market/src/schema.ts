import DataLoader from 'dataloader';
import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, Float, ID, Int, Mutation, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import type { Redis } from '@analytica/redis';
import { buildFederatedSchema, userReference, type SubgraphContext } from '@analytica/subgraph';
import { requireInstrument, searchInstruments, type Catalogue, type Instrument, type Region } from './instruments.js';
import { readQuotes, type MarketState, type Quote } from './quotes.js';
import { addToWatchlist, readWatchlist, removeFromWatchlist, reorderWatchlist, type WatchlistStore } from './watchlists.js';

export const MAX_QUOTES_PER_REQUEST = 50;
const MAX_SEARCH_RESULTS = 100;

export interface MarketContext extends SubgraphContext {
  catalogue: Catalogue;
  watchlists: WatchlistStore;
  /** Per request: every quote the request touches is read in one Redis round trip. */
  quotes: DataLoader<string, Quote | null>;
}

export function quoteLoader(redis: Redis, catalogue: Catalogue) {
  return new DataLoader<string, Quote | null>(async (symbols) => {
    const known = symbols.map((s) => catalogue.get(s)).filter((i): i is Instrument => i !== undefined);
    const quotes = new Map((await readQuotes(redis, known)).map((q, n) => [known[n]!.symbol, q]));
    return symbols.map((s) => quotes.get(s) ?? null);
  });
}

enum RegionEnum {
  US = 'US',
  EU = 'EU',
  APAC = 'APAC',
}
registerEnumType(RegionEnum, { name: 'Region', description: 'Where an instrument is listed; market data is sharded by it.' });

enum MarketStateEnum {
  OPEN = 'OPEN',
  CLOSED = 'CLOSED',
}
registerEnumType(MarketStateEnum, { name: 'MarketState', description: 'Whether the listing venue is trading.' });

@Directive('@key(fields: "symbol")')
@ObjectType('Quote', {
  description:
    'The latest quote of an instrument. Prices are market data in the instrument currency (floats), not money held; positions and payments use Money.',
})
class QuoteType {
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
  @Field(() => GraphQLSafeInt, { description: 'Shares traded this session.' }) volume!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'When the venue reported this quote (UTC).' }) time!: Date;
  @Field(() => MarketStateEnum) marketState!: MarketState;
}

@Directive('@key(fields: "symbol")')
@ObjectType('Instrument', { description: 'A listed security that can be quoted and watched.' })
class InstrumentType {
  @Field(() => String, { description: 'As the venue lists it, with its suffix outside the US: AAPL, SAP.DE, 7203.T.' }) symbol!: string;
  @Field(() => String) name!: string;
  @Field(() => String, { description: 'ISO 10383 market identifier code of the listing venue, e.g. XNAS.' }) exchange!: string;
  @Field(() => RegionEnum) region!: Region;
  @Field(() => String, { description: 'ISO 4217 code of the quote currency.' }) currency!: string;
  @Field(() => String, { description: 'GICS sector, e.g. Information Technology.' }) sector!: string;
}

@Directive('@key(fields: "id")')
@ObjectType('User')
class User {
  @Field(() => ID) id!: string;
}

@Resolver(() => InstrumentType)
class InstrumentResolver {
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
}

@Resolver(() => QuoteType)
class QuoteResolver {
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
    return ctx.quotes.loadMany(instruments.map((i) => i.symbol)).then((results) =>
      results.map((r) => {
        if (r instanceof Error) throw r;
        return r;
      }),
    );
  }

  @FieldResolver(() => InstrumentType)
  instrument(@Root() quote: Quote, @Ctx() ctx: MarketContext): Instrument {
    return requireInstrument(ctx.catalogue, quote.symbol, 'symbol');
  }
}

@Resolver(() => User)
class WatchlistResolver {
  @Authorized()
  @FieldResolver(() => [InstrumentType], { nullable: true, description: 'Instruments the user follows, in their chosen order. Only the user sees it.' })
  async watchlist(@Root() user: User, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return watchlistOf(ctx, user.id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Adds a symbol to the end of your watchlist (at most 100); returns the watchlist.' })
  async addToWatchlist(@Arg('symbol', () => String) symbol: string, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await addToWatchlist(ctx.watchlists, id, requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
    return watchlistOf(ctx, id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Removes a symbol from your watchlist; returns the watchlist.' })
  async removeFromWatchlist(@Arg('symbol', () => String) symbol: string, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await removeFromWatchlist(ctx.watchlists, id, requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
    return watchlistOf(ctx, id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Puts your watchlist in this order; name every symbol on it exactly once.' })
  async reorderWatchlist(@Arg('symbols', () => [String]) symbols: string[], @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await reorderWatchlist(ctx.watchlists, id, symbols);
    return watchlistOf(ctx, id);
  }
}

async function watchlistOf(ctx: MarketContext, userId: string): Promise<Instrument[]> {
  // A symbol dropped from the reference list stays stored but is no longer shown.
  return (await readWatchlist(ctx.watchlists, userId)).map((e) => ctx.catalogue.get(e.symbol)).filter((i): i is Instrument => i !== undefined);
}

export function buildMarketSchema() {
  return buildFederatedSchema({
    resolvers: [InstrumentResolver, QuoteResolver, WatchlistResolver],
    orphanedTypes: [User],
    referenceResolvers: {
      User: userReference(),
      // Market data is not private, but like everything else it is for signed-in callers only.
      Instrument: {
        __resolveReference(reference: { symbol: string }, ctx: MarketContext) {
          requireUser(ctx);
          return ctx.catalogue.get(reference.symbol) ?? null;
        },
      },
      Quote: {
        __resolveReference(reference: { symbol: string }, ctx: MarketContext) {
          requireUser(ctx);
          return ctx.catalogue.get(reference.symbol) ? ctx.quotes.load(reference.symbol) : null;
        },
      },
    },
  });
}
