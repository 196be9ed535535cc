import type { Instrument } from '@analytica/instruments';

/**
 * Finds the listed instruments an article is about, from its text and the tickers its feed gives.
 *
 * - Tickers the feed gives, and explicit ticker mentions: `(AAPL)`, `$AAPL`, `NASDAQ: AAPL`,
 *   `(SAP.DE)`: any listed symbol.
 * - A bare symbol in the text (`NVDA shares`): only symbols of three or more characters that are
 *   not also common words or abbreviations in upper case (`NOW`, `LOW`, `DOW`, `CEO`...), matched
 *   case-sensitively as a whole word, and not in a text written in capitals. One- and two-letter symbols (`A`, `C`, `F`, `IT`, `MS`, `GE`)
 *   are never taken bare: "IT spending", "a GE of" and "Plan A" are not about them.
 * - Company names: the listed name without legal suffixes ("Apple Inc." -> "Apple", "The Goldman
 *   Sachs Group, Inc." -> "Goldman Sachs") and the aliases below, as whole words starting with a
 *   capital letter (accents and case otherwise ignored: "Nestle", "NVIDIA", "Nvidia"). A name that is
 *   also an everyday word (Target, Visa, Block, Shell, Orange...) counts only when the text treats
 *   it as a company: followed by "shares", "stock", "'s", "Inc"/"Corp"/"plc" and the like.
 * - One name listed twice (HSBC in London and Hong Kong, Rio Tinto in London and Sydney) is the
 *   first listing in the reference file.
 */
export interface TickerMatcher {
  match(text: string, given?: readonly string[]): string[];
}

const MAX_SYMBOLS = 20;

/** Upper-case words that are symbols too but mostly mean something else in a headline. */
const NOT_BARE = new Set([
  'NOW',
  'LOW',
  'DOW',
  'ALL',
  'COST',
  'SHOP',
  'SNOW',
  'COIN',
  'PEP',
  'HON',
  'LIN',
  'MMM',
  'XYZ',
  'ARE',
  'CAT',
  'KEY',
  'ONE',
  'BIG',
  'NEW',
  'CEO',
  'CFO',
  'IPO',
  'GDP',
  'CPI',
  'ECB',
  'USA',
  'ETF',
  'AI',
  'IT',
  'EU',
  'UK',
  'US',
]);

/** Names and parts of names that are ordinary words: taken only with a company cue after them. */
const COMMON_WORD_NAMES = new Set(['target', 'visa', 'block', 'shell', 'orange', 'dow', 'investor', 'recruit', 'ether', 'citi', 'southern', 'booking', 'reliance']);
const COMPANY_CUE = /^(?:'s|’s|\s+(?:shares?|stock|stocks|Inc\b|Corp\b|Corporation|Group|plc|AG|SE|SA|N\.V\.|Ltd|Holdings|Co\b))/;

/** Short names the reference file does not spell, for instruments it lists. */
const ALIASES: Record<string, string[]> = {
  GOOGL: ['Google', 'Alphabet'],
  META: ['Meta', 'Facebook'],
  AMZN: ['Amazon'],
  'BRK.B': ['Berkshire Hathaway', 'Berkshire'],
  JPM: ['JPMorgan', 'JP Morgan', 'JPMorgan Chase'],
  XOM: ['Exxon', 'ExxonMobil', 'Exxon Mobil'],
  KO: ['Coca-Cola', 'Coca Cola'],
  PG: ['Procter & Gamble', 'P&G'],
  GS: ['Goldman Sachs', 'Goldman'],
  MS: ['Morgan Stanley'],
  BAC: ['Bank of America'],
  C: ['Citigroup', 'Citi'],
  UNH: ['UnitedHealth'],
  LLY: ['Eli Lilly', 'Lilly'],
  JNJ: ['Johnson & Johnson'],
  DIS: ['Disney', 'Walt Disney'],
  T: ['AT&T'],
  IBM: ['IBM'],
  HD: ['Home Depot'],
  MCD: ["McDonald's", 'McDonalds'],
  NKE: ['Nike'],
  AMD: ['AMD'],
  F: ['Ford'],
  GM: ['General Motors', 'GM'],
  DE: ['Deere', 'John Deere'],
  MRK: ['Merck'],
  SO: ['Southern Company'],
  'INGA.AS': ['ING'],
  'BBVA.MC': ['BBVA'],
  'RMS.PA': ['Hermes'],
  'MUV2.DE': ['Munich Re'],
  'CFR.SW': ['Richemont'],
  'AD.AS': ['Ahold Delhaize'],
  'PHIA.AS': ['Philips'],
  '8306.T': ['MUFG'],
  '9432.T': ['NTT'],
  '0388.HK': ['HKEX'],
  '2318.HK': ['Ping An'],
  'CBA.AX': ['Commonwealth Bank'],
  'O39.SI': ['OCBC'],
  'U11.SI': ['UOB'],
  'Z74.SI': ['Singtel'],
  PFE: ['Pfizer'],
  CAT: ['Caterpillar'],
  BA: ['Boeing'],
  GE: ['GE Aerospace'],
  WFC: ['Wells Fargo'],
  AXP: ['American Express', 'Amex'],
  SCHW: ['Charles Schwab', 'Schwab'],
  'LSEG.L': ['LSEG', 'London Stock Exchange'],
  XYZ: ['Block'],
  SLB: ['SLB', 'Schlumberger'],
  'MBG.DE': ['Mercedes-Benz', 'Mercedes'],
  'VOW3.DE': ['Volkswagen', 'VW'],
  'BMW.DE': ['BMW'],
  'MC.PA': ['LVMH'],
  'OR.PA': ["L'Oreal", 'L’Oreal', 'LOreal'],
  'TTE.PA': ['TotalEnergies'],
  'ASML.AS': ['ASML'],
  'SHEL.L': ['Shell'],
  'HSBA.L': ['HSBC'],
  'BP.L': ['BP'],
  'GSK.L': ['GSK'],
  'NESN.SW': ['Nestle'],
  'ROG.SW': ['Roche'],
  'UBSG.SW': ['UBS'],
  'RACE.MI': ['Ferrari'],
  'SAN.MC': ['Santander'],
  'ITX.MC': ['Inditex'],
  'NOVO-B.CO': ['Novo Nordisk'],
  'MAERSK-B.CO': ['Maersk'],
  'VOLV-B.ST': ['Volvo'],
  'ERIC-B.ST': ['Ericsson'],
  'HM-B.ST': ['H&M'],
  'ABI.BR': ['AB InBev', 'Anheuser-Busch'],
  '7203.T': ['Toyota'],
  '6758.T': ['Sony'],
  '9984.T': ['SoftBank'],
  '7974.T': ['Nintendo'],
  '7267.T': ['Honda'],
  '0700.HK': ['Tencent'],
  '9988.HK': ['Alibaba'],
  '1810.HK': ['Xiaomi'],
  '1211.HK': ['BYD'],
  '005930.KS': ['Samsung Electronics', 'Samsung'],
  '000660.KS': ['SK Hynix'],
  '005380.KS': ['Hyundai'],
  '2330.TW': ['TSMC', 'Taiwan Semiconductor'],
  '2317.TW': ['Foxconn', 'Hon Hai'],
  'TCS.NS': ['Tata Consultancy'],
  'BTC-USD': ['Bitcoin'],
  'ETH-USD': ['Ether', 'Ethereum'],
  'SOL-USD': ['Solana'],
};

const LEGAL = new RegExp(
  String.raw`(?:,?\s+(?:Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.,?|plc|PLC|Plc|p\.l\.c\.|AG|SE|S\.A\.|SA|S\.p\.A\.|N\.V\.|NV|ASA|A/S|AB|Oyj|Ltd\.?|Limited|Group|Holdings?|Class [A-Z]|\(preference shares\)|& Co\.?|SA/NV))+$`,
);

/** The name as headlines write it: "The Goldman Sachs Group, Inc." -> "Goldman Sachs". */
export function shortName(name: string): string {
  let short = name
    .replace(/\s*\(.*?\)\s*/g, ' ')
    .trim()
    .replace(/^The\s+/, '');
  for (let previous = ''; previous !== short;) {
    previous = short;
    short = short.replace(LEGAL, '').trim();
  }
  return short.replace(/,$/, '').replace(/\s+(?:&|and)$/, '');
}

/** Words after a company's own name that headlines mostly leave out ("Coinbase Global" -> "Coinbase"). */
const DESCRIPTOR =
  /\s+(?:Technologies|Technology|Systems|Wholesale|Sciences|International|Communications|Scientific|Laboratories|Health|Resources|Motor|Pharmaceutical|Industries|Banking|Global|Platforms|Financial|Electronics|Chemical|Services|Companies)$/;

const fold = (text: string) => text.normalize('NFKD').replace(/\p{M}/gu, '').replace(/[’]/g, "'");
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const SYMBOL_CHARS = String.raw`[A-Z0-9][A-Z0-9.-]{0,19}`;

export function createTickerMatcher(instruments: readonly Pick<Instrument, 'symbol' | 'name'>[]): TickerMatcher {
  const listed = new Set(instruments.map((i) => i.symbol));
  const byName = new Map<string, string>();
  const addName = (name: string, symbol: string) => {
    const key = fold(name).toLowerCase();
    if (key.length < 2 || byName.has(key)) return; // the first listing keeps a shared name
    byName.set(key, symbol);
  };
  for (const { symbol, name } of instruments) {
    for (const alias of ALIASES[symbol] ?? []) addName(alias, symbol);
    // Currency pairs have no company name a headline would use ("Euro / US Dollar").
    if (name.includes(' / ')) continue;
    const short = shortName(name);
    addName(short, symbol);
    const shorter = short.replace(DESCRIPTOR, '');
    if (shorter !== short && shorter.length >= 3) addName(shorter, symbol);
  }
  const bare = new Set([...listed].filter((s) => s.length >= 3 && !NOT_BARE.has(s)));
  const names = [...byName.keys()].sort((a, b) => b.length - a.length);
  const nameRegex = new RegExp(String.raw`(?<![\p{L}\p{N}&'])(${names.map(escape).join('|')})(?![\p{L}\p{N}&])`, 'giu');
  const explicit = new RegExp(String.raw`\((${SYMBOL_CHARS})\)|\$(${SYMBOL_CHARS})|\b(?:NYSE|NASDAQ|Nasdaq|LSE|XETRA|Xetra)\s*:\s*(${SYMBOL_CHARS})`, 'g');
  const bareRegex = new RegExp(String.raw`(?<![\p{L}\p{N}.$-])([A-Z0-9][A-Z0-9.-]{2,19})(?![\p{L}\p{N}-])`, 'gu');

  return {
    match(text, given = []) {
      const found: string[] = [];
      const add = (symbol: string | undefined) => {
        if (symbol && listed.has(symbol) && !found.includes(symbol)) found.push(symbol);
      };
      for (const s of given) add(s);
      for (const m of text.matchAll(explicit)) add((m[1] ?? m[2] ?? m[3])?.replace(/\.$/, ''));
      // In a text written in capitals every word looks like a symbol: bare symbols are not taken there.
      const letters = text.replace(/[^\p{L}]/gu, '');
      const shouting = letters.length > 0 && letters.replace(/[^\p{Lu}]/gu, '').length / letters.length > 0.6;
      for (const m of shouting ? [] : text.matchAll(bareRegex)) {
        const token = m[1]!.replace(/\.$/, '');
        if (bare.has(token)) add(token);
      }
      const folded = fold(text);
      for (const m of folded.matchAll(nameRegex)) {
        const word = m[1]!;
        // A name is written with a capital: "apple pie" and "a price target" are not companies.
        if (!/^[\p{Lu}\p{N}]/u.test(word)) continue;
        const key = word.toLowerCase();
        if (COMMON_WORD_NAMES.has(key) && !COMPANY_CUE.test(folded.slice(m.index + word.length))) continue;
        add(byName.get(key));
      }
      return found.slice(0, MAX_SYMBOLS);
    },
  };
}
