/** The DynamoDB tables of market data; the ingest worker writes candles and alert firings into the same ones. */
export const marketTables = (prefix: string) => ({
  instruments: `${prefix}instruments`,
  watchlists: `${prefix}watchlists`,
  candles: `${prefix}candles`,
  priceAlerts: `${prefix}price_alerts`,
});
