import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { assertOwnerOrAdmin, requireUser } from '@analytica/auth';
import type { Instrument } from '@analytica/instruments';
import type { MarketContext } from '../context.js';
import { requireInstrument } from '../instruments/instruments.js';
import { InstrumentType } from '../instruments/instruments.graphql.js';
import { User } from '../user/user.graphql.js';
import { addToWatchlist, readWatchlist, removeFromWatchlist, reorderWatchlist } from './watchlists.js';

@Resolver(() => User)
export class UserWatchlistResolver {
  @Authorized()
  @FieldResolver(() => [InstrumentType], { nullable: true, description: 'Instruments the user follows, in their chosen order. Only the user sees it.' })
  async watchlist(@Root() user: User, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    assertOwnerOrAdmin(ctx, user.id);
    return watchlistOf(ctx, user.id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Adds a symbol to the end of your watchlist (at most 100); returns the watchlist.' })
  async addToWatchlist(
    @Arg('symbol', () => String, { description: "An instrument's symbol, e.g. AAPL; an unknown one is BAD_USER_INPUT." }) symbol: string,
    @Ctx() ctx: MarketContext,
  ): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await addToWatchlist(ctx.watchlists, id, requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
    return watchlistOf(ctx, id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Removes a symbol from your watchlist; returns the watchlist.' })
  async removeFromWatchlist(@Arg('symbol', () => String, { description: 'A symbol on your watchlist.' }) symbol: string, @Ctx() ctx: MarketContext): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await removeFromWatchlist(ctx.watchlists, id, requireInstrument(ctx.catalogue, symbol, 'symbol').symbol);
    return watchlistOf(ctx, id);
  }

  @Authorized()
  @Mutation(() => [InstrumentType], { description: 'Puts your watchlist in this order; name every symbol on it exactly once.' })
  async reorderWatchlist(
    @Arg('symbols', () => [String], { description: 'Every symbol on your watchlist once, in the new order.' }) symbols: string[],
    @Ctx() ctx: MarketContext,
  ): Promise<Instrument[]> {
    const { id } = requireUser(ctx);
    await reorderWatchlist(ctx.watchlists, id, symbols);
    return watchlistOf(ctx, id);
  }
}

async function watchlistOf(ctx: MarketContext, userId: string): Promise<Instrument[]> {
  // A symbol dropped from the reference list stays stored but is no longer shown.
  return (await readWatchlist(ctx.watchlists, userId)).map((e) => ctx.catalogue.get(e.symbol)).filter((i): i is Instrument => i !== undefined);
}
