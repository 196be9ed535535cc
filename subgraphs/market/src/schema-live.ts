import { Arg, Ctx, Directive, Field, FieldResolver, Float, ID, Int, ObjectType, Resolver, Root, Subscription } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { requireUser } from '@analytica/auth';
import { notFound } from '@analytica/errors';
import { subscribeThroughGateway } from '@analytica/subgraph';
import { decodePriceAlertTriggerId, type AlertDirection } from './alerts.js';
import { requireRegion, type Region } from './instruments.js';
import { MAX_MOVERS, moverQuotes, moversUnavailable, readPublishedMovers, type PublishedRanking } from './movers.js';
import type { Quote } from './quotes.js';
import { QuoteType, RegionEnum } from './schema-quotes.js';
import type { MarketContext } from './schema.js';
import { AlertDirectionEnum, priceAlertReference, PriceAlertType } from './schema-user.js';

/**
 * What the market subgraph streams besides quotes (see docs/ARCHITECTURE.md, subscriptions): the
 * ranking of a region's movers, public, and each user's own price alert firings. The gateway
 * serves both; the ingest worker publishes them (workers/market-ingest/src/live.ts).
 */

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
  @Field(() => RegionEnum) region!: Region;
  @Field(() => GraphQLDateTimeISO, { description: 'When this ranking was taken (UTC); the quotes in it are the latest.' }) time!: Date;
}

@Resolver(() => MoversType)
export class MoversResolver {
  @FieldResolver(() => [QuoteType], { description: `The instruments that rose most, highest first (only those that rose), at most ${MAX_MOVERS}.` })
  gainers(@Root() movers: MoversRecord, @Arg('limit', () => Int, { defaultValue: 10 }) limit: number, @Ctx() ctx: MarketContext): Promise<Quote[]> {
    return moverQuotes(ctx, movers.region, 'GAINERS', limit, movers.published);
  }

  @FieldResolver(() => [QuoteType], { description: `The instruments that fell most, lowest first (only those that fell), at most ${MAX_MOVERS}.` })
  losers(@Root() movers: MoversRecord, @Arg('limit', () => Int, { defaultValue: 10 }) limit: number, @Ctx() ctx: MarketContext): Promise<Quote[]> {
    return moverQuotes(ctx, movers.region, 'LOSERS', limit, movers.published);
  }

  @Directive('@tag(name: "public")')
  @Subscription(() => MoversType, {
    subscribe: subscribeThroughGateway,
    description: "The region's movers as last ranked, then again each time the ranking changes: at most once a second, and the last change always.",
  })
  movers(@Arg('region', () => RegionEnum) _region: Region, @Root() movers: MoversRecord): MoversRecord {
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
  requireUser(ctx);
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

/**
 * A caller event that is also an entity: its key encodes the firing, so the gateway answers a
 * subscriber from the published payload when it holds every field selected, and otherwise fetches
 * the trigger here by its key (with the subscriber's token), which resolves the rest, the alert's
 * instrument and quote included, exactly as queries do.
 */
@Directive('@key(fields: "id")')
@ObjectType('PriceAlertTrigger', { description: 'One of your price alerts firing: a trade crossed its threshold in its direction.' })
class PriceAlertTriggerType {
  @Field(() => ID, { description: 'The same for a crossing delivered twice, so a client can drop the repeat.' }) id!: string;
  @Field(() => PriceAlertType, { description: 'The alert as it stands after this firing (or a later one).' }) alert!: PriceAlertType;
  @Field(() => String) symbol!: string;
  @Field(() => AlertDirectionEnum) direction!: AlertDirection;
  @Field(() => Float, { description: "In the instrument's currency." }) threshold!: number;
  @Field(() => Float, { description: 'Price of the trade that crossed the threshold.' }) price!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'Exchange time of that trade (UTC).' }) triggeredAt!: Date;
}

@Resolver()
export class PriceAlertTriggerSubscription {
  @Subscription(() => PriceAlertTriggerType, {
    subscribe: subscribeThroughGateway,
    description: 'Your price alerts as they fire (yours only), within a second of the crossing trade.',
  })
  priceAlertTriggered(@Root() trigger: PriceAlertTriggerType): PriceAlertTriggerType {
    return trigger;
  }
}

/**
 * `_entities` for a PriceAlertTrigger: the caller's own alert only (anyone else's, or one deleted
 * since, is NOT_FOUND, as for `deletePriceAlert`), with the firing the key names.
 */
export async function priceAlertTriggerReference(reference: { id: string }, ctx: MarketContext): Promise<PriceAlertTriggerType> {
  requireUser(ctx);
  const firing = decodePriceAlertTriggerId(String(reference.id));
  if (!firing) throw notFound('Price alert trigger', String(reference.id));
  const alert = await priceAlertReference({ id: firing.alertId }, ctx);
  // The worker records the firing on the alert just after publishing it: it may not be there yet.
  const recorded = alert.lastTriggeredAt && alert.lastTriggeredAt.getTime() >= Date.parse(firing.triggeredAt);
  return {
    id: reference.id,
    alert: recorded ? alert : { ...alert, lastTriggeredAt: new Date(firing.triggeredAt), lastTriggeredPrice: firing.price },
    symbol: alert.symbol,
    direction: alert.direction,
    threshold: alert.threshold,
    price: firing.price,
    triggeredAt: new Date(firing.triggeredAt),
  };
}
