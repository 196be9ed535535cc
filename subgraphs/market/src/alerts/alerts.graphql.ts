import { Arg, Authorized, Ctx, Directive, Field, FieldResolver, Float, ID, InputType, Mutation, ObjectType, Resolver, Root, Subscription, registerEnumType } from 'type-graphql';
import { GraphQLDateTimeISO } from 'graphql-scalars';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import { notFound } from '@analytica/errors';
import type { Instrument } from '@analytica/instruments';
import { subscribeThroughGateway } from '@analytica/subgraph';
import type { MarketContext } from '../context.js';
import { requireInstrument } from '../instruments/instruments.js';
import { InstrumentType } from '../instruments/instruments.graphql.js';
import { decodePriceAlertTriggerId, type AlertDirection, type PriceAlert } from '../store/alerts.js';
import { User } from '../user/user.graphql.js';
import { checkThreshold, createAlert, deleteAlert, listAlerts, MAX_ALERTS_PER_USER } from './alerts.js';

export enum AlertDirectionEnum {
  ABOVE = 'ABOVE',
  BELOW = 'BELOW',
}
registerEnumType(AlertDirectionEnum, {
  name: 'AlertDirection',
  description: 'ABOVE fires when the price rises to or through the threshold, BELOW when it falls to or through it.',
  valuesConfig: {
    ABOVE: { description: 'Fires when the last price rises to or above the threshold.' },
    BELOW: { description: 'Fires when the last price falls to or below the threshold.' },
  },
});

@Directive('@key(fields: "id")')
@ObjectType('PriceAlert', {
  description: 'Fires a notification each time the last price crosses the threshold in the chosen direction: once per crossing, armed again when the price comes back.',
})
export class PriceAlertType {
  @Field(() => ID, { description: 'Id of the alert.' }) id!: string;
  @Field(() => String, { description: 'The instrument watched.' }) symbol!: string;
  @Field(() => AlertDirectionEnum, { description: 'Whether it fires on a rise to the threshold or a fall to it.' }) direction!: AlertDirection;
  @Field(() => Float, { description: "In the instrument's currency." }) threshold!: number;
  @Field(() => GraphQLDateTimeISO, { description: 'When it was created (UTC, ISO 8601).' }) createdAt!: Date;
  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Exchange time of the trade that last fired it.' }) lastTriggeredAt?: Date;
  @Field(() => Float, { nullable: true, description: 'Price of the trade that last fired it.' }) lastTriggeredPrice?: number;
}

@InputType('PriceAlertInput', { description: 'A new price alert (createPriceAlert).' })
class PriceAlertInput {
  @Field(() => String, { description: "An instrument's symbol, e.g. AAPL." }) symbol!: string;
  @Field(() => AlertDirectionEnum, { description: 'Fire on a rise to the threshold (ABOVE) or a fall to it (BELOW).' }) direction!: AlertDirection;
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
export class UserPriceAlertsResolver {
  @Authorized()
  @FieldResolver(() => [PriceAlertType], { nullable: true, description: "The user's price alerts, oldest first. Only the user sees them." })
  async priceAlerts(@Root() user: User, @Ctx() ctx: MarketContext): Promise<PriceAlertType[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return (await listAlerts(ctx.alerts, user.id)).map(toType);
  }

  @Authorized()
  @Mutation(() => PriceAlertType, { description: `Creates a price alert for you (at most ${MAX_ALERTS_PER_USER}).` })
  async createPriceAlert(
    @Arg('input', () => PriceAlertInput, { description: 'The symbol, direction and threshold.' }) input: PriceAlertInput,
    @Ctx() ctx: MarketContext,
  ): Promise<PriceAlertType> {
    const { id } = requireUser(ctx);
    const instrument = requireInstrument(ctx.catalogue, input.symbol, 'input.symbol');
    checkThreshold(input.threshold, 'input.threshold');
    return toType(await createAlert(ctx.alerts, id, instrument, input.direction, input.threshold));
  }

  @Authorized()
  @Mutation(() => PriceAlertType, { description: 'Deletes one of your price alerts and returns it. Any id that is not yours answers NOT_FOUND.' })
  async deletePriceAlert(@Arg('id', () => ID, { description: 'One of your price alerts.' }) alertId: string, @Ctx() ctx: MarketContext): Promise<PriceAlertType> {
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
  @Field(() => String, { description: "The instrument's symbol." }) symbol!: string;
  @Field(() => AlertDirectionEnum, { description: "The alert's direction." }) direction!: AlertDirection;
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
