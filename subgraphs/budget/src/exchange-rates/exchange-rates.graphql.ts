import { Arg, Authorized, Ctx, Directive, Int, Mutation, Resolver } from 'type-graphql';
import type { BudgetContext } from '../context.js';
import { parseRatesCsv, saveExchangeRates } from './exchange-rates.js';

/**
 * Exchange rates are reference data, not anyone's ledger: there is no Rate type, only the admins'
 * way to load more. Reports, budgets and transfers read them through loadRateTable.
 */
@Resolver()
export class ExchangeRateResolver {
  @Authorized('ADMIN')
  @Directive('@tag(name: "admin")')
  @Mutation(() => Int, {
    description:
      'Adds or replaces exchange rates from CSV text with the header "date,base,quote,rate" (1 base = rate quote); all rows or none. Admins only: rates are shared by every user.',
  })
  async loadExchangeRates(
    @Arg('csv', () => String, { description: 'CSV text with the header "date,base,quote,rate", e.g. "2026-01-02,EUR,USD,1.0931".' }) csv: string,
    @Ctx() ctx: BudgetContext,
  ): Promise<number> {
    const rates = parseRatesCsv(csv, 'csv');
    return ctx.em.transactional((tx) => saveExchangeRates(tx, rates));
  }
}
