/**
 * The topic taxonomy of news articles: the one place its slugs are defined. An article gets every
 * topic whose cues its title or summary contain (a long body mentions too much in passing) (whole words, case and accents ignored),
 * every topic of the instruments it is about (a crypto pair -> crypto, an Energy-sector company
 * -> energy, a currency pair -> currencies), and the topics its feed gives when they are
 * taxonomy slugs (other categories a feed uses are dropped). At most 10, in taxonomy order.
 */
export const TOPICS = {
  markets: {
    description: 'Stock and index moves, trading, investor mood.',
    cues: [
      'stocks?',
      'shares',
      'equit(?:y|ies)',
      'wall street',
      's&p 500',
      'nasdaq',
      'dow jones',
      'ftse',
      'dax',
      'nikkei',
      'stoxx',
      'hang seng',
      'sell-?off',
      'rall(?:y|ies|ied)',
      'bull market',
      'bear market',
      'investors?',
    ],
  },
  earnings: {
    description: 'Company results, guidance, dividends and buybacks.',
    cues: ['earnings', 'quarterly', 'results', 'profits?', 'revenue', 'guidance', 'outlook', 'forecasts?', 'eps', 'dividends?', 'buybacks?', 'margins?', 'quarter'],
  },
  economy: {
    description: 'Growth, jobs, trade and activity.',
    cues: [
      'economy',
      'economic',
      'economists?',
      'gdp',
      'recession',
      'unemployment',
      'jobless',
      'jobs report',
      'payrolls',
      'retail sales',
      'consumer (?:confidence|spending)',
      'factory',
      'manufacturing',
      'pmi',
      'exports?',
      'tariffs?',
      'trade (?:war|deal)',
    ],
  },
  rates: {
    description: 'Central banks, interest rates and bond yields.',
    cues: [
      'interest rates?',
      'rate (?:cuts?|hikes?|rises?)',
      'central banks?',
      'fed',
      'federal reserve',
      'fomc',
      'ecb',
      'bank of england',
      'bank of japan',
      'monetary policy',
      'yields?',
      'treasur(?:y|ies)',
      'bonds?',
      'gilts?',
      'bunds?',
    ],
  },
  inflation: { description: 'Consumer and producer prices.', cues: ['inflation', 'cpi', 'consumer prices', 'price pressures?', 'deflation', 'cost of living'] },
  crypto: {
    description: 'Cryptocurrencies, exchanges and tokens.',
    cues: ['crypto(?:currenc(?:y|ies))?', 'bitcoin', 'ether', 'ethereum', 'solana', 'stablecoins?', 'blockchain', 'tokens?', 'defi'],
  },
  housing: {
    description: 'Home prices, mortgages, building and rents.',
    cues: ['housing', 'house prices', 'home prices', 'mortgages?', 'homebuilders?', 'housebuilders?', 'rents?', 'real estate', 'property market', 'housing starts'],
  },
  energy: {
    description: 'Oil, gas, power and renewables.',
    cues: [
      'oil',
      'crude',
      'brent',
      'opec',
      'natural gas',
      'lng',
      'gas prices',
      'energy',
      'electricity',
      'power prices',
      'renewables?',
      'solar',
      'wind farms?',
      'refiner(?:y|ies|s)?',
      'pipelines?',
    ],
  },
  technology: {
    description: 'Chips, software, AI, devices and the companies making them.',
    cues: [
      'tech',
      'technology',
      'ai',
      'artificial intelligence',
      'chips?',
      'chipmakers?',
      'semiconductors?',
      'software',
      'cloud',
      'data cent(?:re|er)s?',
      'smartphones?',
      'iphones?',
    ],
  },
  banking: { description: 'Banks, lending, deposits and credit.', cues: ['banks?', 'banking', 'lenders?', 'loans?', 'lending', 'deposits?', 'credit'] },
  deals: {
    description: 'Mergers, acquisitions, takeovers and listings.',
    cues: ['mergers?', 'acquisitions?', 'acquires?', 'takeovers?', 'buyouts?', 'bids? for', 'ipos?', 'initial public offering', 'spin-?off', 'deal to buy'],
  },
  regulation: {
    description: 'Regulators, probes, fines, courts and new rules.',
    cues: ['regulators?', 'regulatory', 'antitrust', 'probes?', 'investigations?', 'fined', 'fines?', 'lawsuits?', 'sued', 'court', 'sec', 'competition authority', 'sanctions?'],
  },
  currencies: {
    description: 'Exchange rates and currencies.',
    cues: ['dollar', 'euro', 'yen', 'sterling', 'pound', 'yuan', 'franc', 'currenc(?:y|ies)', 'forex', 'exchange rates?'],
  },
  commodities: {
    description: 'Metals, farm goods and other raw materials.',
    cues: ['gold', 'silver', 'copper', 'iron ore', 'lithium', 'nickel', 'wheat', 'corn', 'soybeans?', 'coffee', 'cocoa', 'commodit(?:y|ies)', 'metals?'],
  },
  'personal-finance': {
    description: 'Saving, budgeting, pensions, taxes and household money.',
    cues: [
      'savings?',
      'savers?',
      'pensions?',
      'retirement',
      'budget(?:ing)?',
      'credit scores?',
      'emergency fund',
      'household',
      'personal finance',
      'tax(?:es)?',
      'isa',
      '401\\(k\\)',
      'your money',
    ],
  },
} as const satisfies Record<string, { description: string; cues: readonly string[] }>;

export type Topic = keyof typeof TOPICS;
export const TOPIC_SLUGS = Object.keys(TOPICS) as Topic[];
const MAX_TOPICS = 10;

/** Topics that follow from an instrument's sector in the reference file. */
const SECTOR_TOPICS: Record<string, Topic> = { Cryptocurrency: 'crypto', Currency: 'currencies', Energy: 'energy' };

const fold = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
const CUES = TOPIC_SLUGS.map((slug) => ({ slug, regex: new RegExp(String.raw`(?<![\p{L}\p{N}])(?:${TOPICS[slug].cues.join('|')})(?![\p{L}\p{N}])`, 'u') }));

export function isTopic(slug: string): slug is Topic {
  return Object.hasOwn(TOPICS, slug);
}

/** The taxonomy topics of an article (see TOPICS). */
export function topicsOf(text: string, options: { given?: readonly string[]; sectors?: readonly string[] } = {}): Topic[] {
  const folded = fold(text);
  const found = new Set<Topic>();
  for (const { slug, regex } of CUES) if (regex.test(folded)) found.add(slug);
  for (const sector of options.sectors ?? []) if (SECTOR_TOPICS[sector]) found.add(SECTOR_TOPICS[sector]);
  for (const given of options.given ?? []) if (isTopic(given)) found.add(given);
  return TOPIC_SLUGS.filter((t) => found.has(t)).slice(0, MAX_TOPICS);
}
