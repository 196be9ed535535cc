// The instruments we list and the venues they trade on: the reference file (data/instruments.json)
// and the trading calendar. The market subgraph serves them, the market feed trades by them and
// market-ingest accepts ticks of them: one copy, so that they cannot disagree.
export { parseInstrument, readReferenceFile, REGIONS, type Instrument, type ReferenceFile, type Region } from './instruments.js';
export { ALWAYS_OPEN_VENUE, MARKET_STATES, neverCloses, nextOpen, TRADING_HOURS, venueStatus, type MarketState, type VenueHours, type VenueStatus } from './venues.js';
