import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, Float, ID, InputType, Mutation, ObjectType, Resolver, Root, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { notFound } from '@analytica/errors';
import { checkThreshold, createAlert, deleteAlert, listAlerts, MAX_ALERTS_PER_USER, type AlertDirection, type PriceAlert } from './alerts.js';
import { requireInstrument, type Instrument } from './instruments.js';
import { InstrumentType } from './schema-quotes.js';
import type { MarketContext } from './schema.js';
import { addToWatchlist, readWatchlist, removeFromWatchlist, reorderWatchlist } from './watchlists.js';

@Directive('@key(fields: "id")')
@ObjectType('User')
export class User {
  @Field(() => ID) id!: string;
}

export enum AlertDirectionEnum {
  ABOVE = 'ABOVE',
  BELOW = 'BELOW',
}
registerEnumType(AlertDirectionEnum, {
  name: 'AlertDirection',
  description: 'ABOVE fires when the price rises to or through the threshold, BELOW when it falls to or through it.',
});

@Directive('@key(fields: "id")')
@ObjectType('PriceAlert', {
  description:
    'Fires a notification each time the last price crosses the threshold in the chosen direction: once per crossing, armed again when the price comes back.',
})
export class PriceAlertType {
  @Field(() => ID) id!: string;
  @Field(() => String) symbol!: string;
  @Field(() => AlertDirectionEnum) direction!: AlertDirection;
  @Field(() => Float, { description: "In the instrument's currency." }) threshold!: number;
  @Field(() => GraphQLDateTimeISO) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Exchange time of the trade that last fired it.' }) lastTriggeredAt?: Date;
  @Field(() => Float, { nullable: true, description: 'Price of the trade that last fired it.' }) lastTriggeredPrice?: number;
}

@InputType('PriceAlertInput')
class PriceAlertInput {
  @Field(() => String) symbol!: string;
  @Field(() => AlertDirectionEnum) direction!: AlertDirection;
  @Field(() => Float, { description: "In the instrument's currency, above 0." }) threshold!: number;
}

const toType = (alert: PriceAlert): PriceAlertType => ({
  id: alert.alertId,
  symbol: alert.symbol,
  direction: alert.direction,
  threshold: alert.threshold,
  createdAt: new Date(alert.createdAt),
  lastTriggeredAt: alert.lastTriggeredAt ? new Date(alert.lastTriggeredAt) : undefined,
  lastTriggeredPrice: alert.lastTriggeredPrice,
});

@Resolver(() => User)
export class UserMarketResolver {
  @Authorized()
  @FieldResolver(() => [InstrumentType], { nullable: true, description: 'Instruments the user follows, in their chosen order. Only the user sees it.' })
  async watchlist(@Root() user: User, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return watchlistOf(ctx, user.id);
  }

  @Authorized()
  @FieldResolver(() => [PriceAlertType], { nullable: true, description: "The user's price alerts, oldest first. Only the user sees them." })
  async priceAlerts(@Root() user: User, @Ctx() ctx: MarketContext): Promise<PriceAlertType[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return (await listAlerts(ctx.alerts, user.id)).map(toType);
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

  @Authorized()
  @Mutation(() => PriceAlertType, { description: `Creates a price alert for you (at most ${MAX_ALERTS_PER_USER}).` })
  async createPriceAlert(@Arg('input', () => PriceAlertInput) input: PriceAlertInput, @Ctx() ctx: MarketContext): Promise<PriceAlertType> {
    const { id } = requireUser(ctx);
    const instrument = requireInstrument(ctx.catalogue, input.symbol, 'input.symbol');
    checkThreshold(input.threshold, 'input.threshold');
    return toType(await createAlert(ctx.alerts, id, instrument, input.direction, input.threshold));
  }

  @Authorized()
  @Mutation(() => PriceAlertType, { description: 'Deletes one of your price alerts and returns it. Any id that is not yours answers NOT_FOUND.' })
  async deletePriceAlert(@Arg('id', () => ID) alertId: string, @Ctx() ctx: MarketContext): Promise<PriceAlertType> {
    const { id } = requireUser(ctx);
    const deleted = await deleteAlert(ctx.alerts, id, alertId);
    if (!deleted) throw notFound('Price alert', alertId);
    return toType(deleted);
  }
}

@Resolver(() => PriceAlertType)
export class PriceAlertResolver {
  @FieldResolver(() => InstrumentType, { nullable: true, description: 'Null if the instrument has left the reference list.' })
  instrument(@Root() alert: PriceAlertType, @Ctx() ctx: MarketContext): Instrument | undefined {
    return ctx.catalogue.get(alert.symbol);
  }
}

/** `_entities` for a PriceAlert: only the caller's own; any other id is NOT_FOUND, so ids cannot be probed. */
export async function priceAlertReference(reference: { id: string }, ctx: MarketContext): Promise<PriceAlertType> {
  const { id } = requireUser(ctx);
  const alert = (await listAlerts(ctx.alerts, id)).find((a) => a.alertId === reference.id);
  if (!alert) throw notFound('Price alert', reference.id);
  return toType(alert);
}

async function watchlistOf(ctx: MarketContext, userId: string): Promise<Instrument[]> {
  // A symbol dropped from the reference list stays stored but is no longer shown.
  return (await readWatchlist(ctx.watchlists, userId)).map((e) => ctx.catalogue.get(e.symbol)).filter((i): i is Instrument => i !== undefined);
}
