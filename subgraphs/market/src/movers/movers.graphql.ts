import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, ID, Int, ObjectType, Query, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { ANY_CALLER, requireCaller } from '@analytica/auth';
import type { Region } from '@analytica/instruments';
import { subscribeThroughGateway } from '@analytica/subgraph';
import type { MarketContext } from '../context.js';
import { requireRegion } from '../instruments/instruments.js';
import { RegionEnum } from '../instruments/instruments.graphql.js';
import { QuoteType } from '../quotes/quotes.graphql.js';
import type { Quote } from '../store/quote-codec.js';
import { MAX_MOVERS } from '../store/redis-keys.js';
import { moverQuotes, moversUnavailable, readPublishedMovers, type MoverDirection, type PublishedRanking } from './movers.js';

/**
 * A region's movers: the `movers` query, ranked live, and the live `Movers` entity, public, which
 * the gateway streams (see docs/ARCHITECTURE.md, subscriptions); the ingest worker publishes it
 * (workers/market-ingest/src/live.ts).
 */

enum MoverDirectionEnum {
  GAINERS = 'GAINERS',
  LOSERS = 'LOSERS',
}
registerEnumType(MoverDirectionEnum, {
  name: 'MoverDirection',
  description: 'Biggest rises or biggest falls since the previous close.',
  valuesConfig: {
    GAINERS: { description: 'The instruments that rose most since their previous close.' },
    LOSERS: { description: 'The instruments that fell most since their previous close.' },
  },
});

@Resolver()
export class MoversQuery {
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => [QuoteType], {
    description: `The instruments of a region that rose (GAINERS) or fell (LOSERS) most since their previous close, at most ${MAX_MOVERS}.`,
  })
  async movers(
    @Arg('region', () => String, { description: 'US, EU, APAC or GLOBAL (the crypto and currency pairs).' }) region: string,
    @Arg('direction', () => MoverDirectionEnum, { description: 'Rises (GAINERS) or falls (LOSERS).', defaultValue: MoverDirectionEnum.GAINERS }) direction: MoverDirection,
    @Arg('limit', () => Int, { description: 'How many to return, 1 to 50.', defaultValue: 10 }) limit: number,
    @Ctx() ctx: MarketContext,
  ): Promise<Quote[]> {
    // The same reading as the live Movers entity's (below).
    return moverQuotes(ctx, requireRegion(region, 'region'), direction, limit);
  }
}

interface MoversRecord {
  region: Region;
  time: Date;
  /** The ranking the ingest worker last published; null before the first (then the live one). */
  published: PublishedRanking | null;
}

// Public like Quote: one shared execution per region and selection, whoever subscribes.
@Directive('@key(fields: "region")')
@Directive('@tag(name: "public")')
@ObjectType('Movers', { description: "A region's biggest rises and falls since the previous close, as the market feed ranks them (at most once a second)." })
class MoversType {
  @Field(() => RegionEnum, { description: 'The region ranked.' }) region!: Region;
  @Field(() => GraphQLDateTimeISO, { description: 'When this ranking was taken (UTC); the quotes in it are the latest.' }) time!: Date;
}

@Resolver(() => MoversType)
export class MoversResolver {
  @FieldResolver(() => ID, { description: "The ranking's stable identity: its region (a client cache keeps one Movers per region, which every new ranking replaces)." })
  id(@Root() movers: MoversRecord): string {
    return movers.region;
  }

  @FieldResolver(() => [QuoteType], { description: `The instruments that rose most, highest first (only those that rose), at most ${MAX_MOVERS}.` })
  gainers(
    @Root() movers: MoversRecord,
    @Arg('limit', () => Int, { description: 'How many to return, 1 to 50.', defaultValue: 10 }) limit: number,
    @Ctx() ctx: MarketContext,
  ): Promise<Quote[]> {
    return moverQuotes(ctx, movers.region, 'GAINERS', limit, movers.published);
  }

  @FieldResolver(() => [QuoteType], { description: `The instruments that fell most, lowest first (only those that fell), at most ${MAX_MOVERS}.` })
  losers(
    @Root() movers: MoversRecord,
    @Arg('limit', () => Int, { description: 'How many to return, 1 to 50.', defaultValue: 10 }) limit: number,
    @Ctx() ctx: MarketContext,
  ): Promise<Quote[]> {
    return moverQuotes(ctx, movers.region, 'LOSERS', limit, movers.published);
  }

  @Directive('@tag(name: "public")')
  @Subscription(() => MoversType, {
    subscribe: subscribeThroughGateway,
    description: "The region's movers as last ranked, then again each time the ranking changes: at most once a second, and the last change always.",
  })
  movers(@Arg('region', () => RegionEnum, { description: 'The region to rank.' }) _region: Region, @Root() movers: MoversRecord): MoversRecord {
    return movers;
  }
}

/**
 * `_entities` for Movers: the ranking last published. The gateway asks for it when a subscription
 * starts and for each `Movers.<region>` event (which carries only the key); reading the published
 * ranking rather than the live one makes what it delivers exactly what was announced, and a
 * ranking that changes and changes back between an event and this read cannot leave a subscriber
 * on the intermediate one.
 */
export async function moversReference(reference: { region: string }, ctx: MarketContext): Promise<MoversRecord> {
  requireCaller(ctx);
  const region = requireRegion(String(reference.region), 'region');
  let published: PublishedRanking | null;
  try {
    published = await readPublishedMovers(ctx.redis, region);
  } catch (error) {
    ctx.log.warn({ err: error }, 'movers unavailable');
    throw moversUnavailable();
  }
  return { region, time: published?.time ?? new Date(), published };
}
