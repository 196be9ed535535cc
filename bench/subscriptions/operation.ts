/**
 * The subscription the benchmark's clients send: README.md's, with the symbols as a variable (each
 * client picks its own). gateway/src/subscriptions/planner.test.ts checks that the committed
 * supergraph shares it among all subscribers.
 */
export const BENCH_SUBSCRIPTION = 'subscription Tickers($symbols: [String!]!) { quotes(symbols: $symbols) { symbol last changePercent time latestHeadline { title } } }';
