import { Arg, Authorized, Ctx, Directive, Field, Float, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { ANY_CALLER } from '@analytica/auth';
import type { MarketContext } from '../context.js';
import { requireInstrument } from '../instruments/instruments.js';
import type { CandleInterval } from '../store/candles.js';
import { checkCandleRequest, readCandles, type Candle } from './candles.js';

@Directive('@tag(name: "public")')
@ObjectType('Candle', { description: 'Open, high, low, close and volume of the trades in one time bucket.' })
class CandleType {
  @Field(() => String, { description: "The instrument's symbol." }) symbol!: string;
  @Field(() => String, { description: '1m, 5m, 1h or 1d.' }) interval!: CandleInterval;
  @Field(() => GraphQLDateTimeISO, {
    description: "Start of the bucket (UTC). A daily candle is the venue's trading session, dated by its local trading date at 00:00Z.",
  })
  start!: Date;
  @Field(() => Float, { description: "Price of the bucket's first trade, in the instrument's currency." }) open!: number;
  @Field(() => Float, { description: "Highest traded price in the bucket, in the instrument's currency." }) high!: number;
  @Field(() => Float, { description: "Lowest traded price in the bucket, in the instrument's currency." }) low!: number;
  @Field(() => Float, { description: "Price of the bucket's last trade, in the instrument's currency." }) close!: number;
  @Field(() => GraphQLSafeInt, { description: 'Shares traded in the bucket.' }) volume!: number;
  @Field(() => Int, { description: 'Number of trades in the bucket.' }) trades!: number;
}

@Resolver(() => CandleType)
export class CandleResolver {
  @Authorized(ANY_CALLER)
  @Directive('@tag(name: "public")')
  @Query(() => [CandleType], {
    description:
      'Candles of one instrument, oldest first, whose bucket starts between from and to (the bucket holding from included). At most 24 hours of 1m, 7 days of 5m, 90 days of 1h or 5 years of 1d candles per request.',
  })
  candles(
    @Arg('symbol', () => String, { description: "The instrument's symbol." }) symbol: string,
    @Arg('interval', () => String, { description: '1m, 5m, 1h or 1d.' }) interval: string,
    @Arg('from', () => GraphQLDateTimeISO, { description: 'Start of the range (UTC, ISO 8601); the bucket holding it is included.' }) from: Date,
    @Arg('to', () => GraphQLDateTimeISO, { nullable: true, description: 'Defaults to now.' }) to: Date | undefined,
    @Ctx() ctx: MarketContext,
  ): Promise<Candle[]> {
    const instrument = requireInstrument(ctx.catalogue, symbol, 'symbol');
    const until = to ?? new Date();
    return readCandles(ctx.candles, instrument, checkCandleRequest(interval, from, until), from, until);
  }
}
