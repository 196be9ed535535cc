import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root, registerEnumType } from 'type-graphql';
import { ANY_CALLER, requireCaller } from '@analytica/auth';
import { badInput } from '@analytica/errors';
import type { Instrument, Region } from '@analytica/instruments';
import type { MarketContext } from '../context.js';
import { requireInstrument, searchInstruments } from './instruments.js';

// An instrument's live side (its quote, whether its venue trades now, when it opens next) is
// resolved in quotes.graphql.ts.

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
  valuesConfig: {
    US: { description: 'United States venues (XNAS, XNYS).' },
    EU: { description: 'European venues (e.g. XETR, XPAR, XLON, XSWX).' },
    APAC: { description: 'Asia-Pacific venues (e.g. XTKS, XHKG, XASX).' },
    GLOBAL: { description: 'Crypto and currency pairs: traded over the counter around the clock, in no one region.' },
  },
});

@Directive('@key(fields: "symbol")')
@Directive('@tag(name: "public")')
@ObjectType('Instrument', { description: 'A listed security that can be quoted and watched.' })
export class InstrumentType {
  @Field(() => String, { description: 'As the venue lists it, with its suffix outside the US: AAPL, SAP.DE, 7203.T.' }) symbol!: string;
  @Field(() => String, { description: 'The issuer\'s or pair\'s name, e.g. "Apple Inc." or "Bitcoin / US Dollar".' }) name!: string;
  @Field(() => String, { description: 'ISO 10383 market identifier code of the listing venue, e.g. XNAS; XOFF (over the counter) for crypto and currency pairs.' })
  exchange!: string;
  @Field(() => RegionEnum, { description: 'Where it is listed; GLOBAL for crypto and currency pairs.' }) region!: Region;
  @Field(() => String, { description: 'ISO 4217 code of the quote currency.' }) currency!: string;
  @Field(() => String, { description: 'GICS sector, e.g. Information Technology; Cryptocurrency or Currency for the pairs.' }) sector!: string;
}

@Resolver(() => InstrumentType)
export class InstrumentResolver {
  @FieldResolver(() => ID, { description: "The instrument's stable identity: its symbol (a client cache keeps one Instrument per symbol)." })
  id(@Root() instrument: Instrument): string {
    return instrument.symbol;
  }

  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => InstrumentType, { description: 'One instrument; an unknown symbol is BAD_USER_INPUT.' })
  instrument(@Arg('symbol', () => String, { description: 'The symbol, e.g. AAPL, SAP.DE or BTC-USD.' }) symbol: string, @Ctx() ctx: MarketContext): Instrument {
    return requireInstrument(ctx.catalogue, symbol, 'symbol');
  }

  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => [InstrumentType], { description: 'Instruments whose symbol or name matches, best matches first.' })
  searchInstruments(
    @Arg('query', () => String, { nullable: true, description: 'Part of a symbol or name; omit to list by filters only.' }) query: string | undefined,
    @Arg('region', () => RegionEnum, { description: 'Only instruments listed in this region.', nullable: true }) region: Region | undefined,
    @Arg('sector', () => String, { nullable: true, description: 'GICS sector name, any letter case.' }) sector: string | undefined,
    @Arg('first', () => Int, { description: 'How many to return, 1 to 100.', defaultValue: 20 }) first: number,
    @Ctx() ctx: MarketContext,
  ): Instrument[] {
    if (first < 1 || first > MAX_SEARCH_RESULTS) throw badInput('first', `Ask for 1 to ${MAX_SEARCH_RESULTS} results.`);
    if (query && query.length > 100) throw badInput('query', 'Search with at most 100 characters.');
    return searchInstruments(ctx.catalogue, { query, region, sector, first });
  }
}

/** `_entities` for an Instrument: market data is not private, but it is for verified callers only (people and partner apps). */
export function instrumentReference(reference: { symbol: string }, ctx: MarketContext): Instrument {
  requireCaller(ctx);
  // The same refusal as the instrument query's: a subscription to an unknown symbol is told so in the same words.
  return requireInstrument(ctx.catalogue, reference.symbol, 'symbol');
}
