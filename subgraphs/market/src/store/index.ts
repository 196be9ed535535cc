// @analytica/market-subgraph/store: market data at rest and on the wire, the part of the market
// context its ingest worker shares. The Redis keys and channels, the one quote codec, candle
// buckets and items, the alert index and the alert records and firings, the DynamoDB tables. The
// worker writes what the subgraph reads with these and nothing else, so the two cannot drift apart.
// Nothing here knows GraphQL.
export { ALERTS_VERSION_KEY, alertIndexKey, MAX_MOVERS, moversChannel, moversKey, publishedMoversKey, quoteChannel, quoteKey } from './redis-keys.js';
export { changeOf, decodeQuote, encodeQuote, price, quoteFromHash, quoteMessage, referenceQuote, toQuote, type Quote, type StoredQuote } from './quote-codec.js';
export { bucketStart, CANDLE_INTERVALS, candleKey, candlesTable, isCandleInterval, type CandleInterval, type CandleItem } from './candles.js';
export {
  ALERT_DIRECTIONS,
  crossedAlerts,
  decodePriceAlertTriggerId,
  decodeRules,
  encodeRule,
  markTriggered,
  priceAlertsTable,
  priceAlertTriggerId,
  priceAlertTriggerPayload,
  type AlertDirection,
  type AlertFiring,
  type AlertRule,
  type PriceAlert,
} from './alerts.js';
export { marketTables } from './tables.js';
