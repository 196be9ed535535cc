import { batchWrite, GetCommand, PutCommand, ScanCommand, type Dynamo } from '@analytica/dynamo';
import { badInput } from '@analytica/errors';
import { parseInstrument, REGIONS, type Instrument, type ReferenceFile, type Region } from '@analytica/instruments';

// The market's catalogue of instruments: the reference file (@analytica/instruments) loaded into
// DynamoDB at start, held in memory by every instance, and searched.

/** One item per symbol; the partition key is the symbol because every lookup starts from one. */
export function instrumentsTable(name: string): Parameters<Dynamo['ensureTable']>[0] {
  return {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'symbol', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'symbol', KeyType: 'HASH' }],
  };
}

// Written last, so a load that stopped half-way is simply done again at the next start.
const MARKER = '#reference-version';

/**
 * Makes the table hold exactly the reference file's instruments. Idempotent: a table already at
 * the file's version is left alone, and every write is a whole-item put or delete.
 */
export async function loadReferenceInstruments(dynamo: Dynamo, table: string, file: ReferenceFile): Promise<'loaded' | 'current'> {
  const marker = await dynamo.doc.send(new GetCommand({ TableName: table, Key: { symbol: MARKER }, ConsistentRead: true }));
  if (marker.Item?.version === file.version) return 'current';

  const wanted = new Set(file.instruments.map((i) => i.symbol));
  const delisted = (await readInstruments(dynamo, table)).filter((i) => !wanted.has(i.symbol));
  await batchWrite(dynamo, table, [
    ...file.instruments.map((instrument) => ({ PutRequest: { Item: { ...instrument, referenceVersion: file.version } } })),
    ...delisted.map((i) => ({ DeleteRequest: { Key: { symbol: i.symbol } } })),
  ]);
  await dynamo.doc.send(
    new PutCommand({
      TableName: table,
      Item: { symbol: MARKER, version: file.version, count: file.instruments.length, loadedAt: new Date().toISOString() },
    }),
  );
  return 'loaded';
}

export async function readInstruments(dynamo: Dynamo, table: string): Promise<Instrument[]> {
  const instruments: Instrument[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) {
      if (item.symbol === MARKER) continue;
      instruments.push(parseInstrument(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return instruments;
}

/**
 * The instruments as every request sees them. The reference list is small and changes only with
 * a release, so each instance holds it in memory and a quote's Redis key (which needs the
 * region) costs no DynamoDB read.
 */
export interface Catalogue {
  readonly all: readonly Instrument[];
  get(symbol: string): Instrument | undefined;
}

export function createCatalogue(instruments: Instrument[]): Catalogue {
  const sorted = [...instruments].sort((a, b) => a.symbol.localeCompare(b.symbol));
  const bySymbol = new Map(sorted.map((i) => [i.symbol, i]));
  return { all: sorted, get: (symbol) => bySymbol.get(symbol) };
}

export const normaliseSymbol = (raw: string) => raw.trim().toUpperCase();

/** The instrument for a symbol the caller typed, or BAD_USER_INPUT on `field` naming the symbol. */
export function requireInstrument(catalogue: Catalogue, raw: string, field: string): Instrument {
  const symbol = normaliseSymbol(raw);
  const instrument = catalogue.get(symbol);
  if (!instrument) throw badInput(field, `No instrument has the symbol "${symbol}"; searchInstruments finds the right one.`);
  return instrument;
}

/** A region the caller typed (any letter case), or BAD_USER_INPUT on `field` listing the regions. */
export function requireRegion(raw: string, field: string): Region {
  const region = raw.trim().toUpperCase();
  if (!(REGIONS as readonly string[]).includes(region)) throw badInput(field, `"${raw}" is not a region; use one of ${REGIONS.join(', ')}.`);
  return region as Region;
}

export interface InstrumentSearch {
  query?: string | null;
  region?: Region | null;
  sector?: string | null;
  first: number;
}

// Lower case without accents, so "nestle" finds Nestlé.
const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const compact = (text: string) => text.replace(/[^\p{L}\p{N}]/gu, '');

/**
 * Best matches first: the exact symbol (with or without its venue suffix), then symbols that start
 * with the query, then names with a word that starts with it, then names that contain it.
 */
export function searchInstruments(catalogue: Catalogue, search: InstrumentSearch): Instrument[] {
  const query = fold(search.query?.trim() ?? '');
  const sector = search.sector?.trim().toLowerCase();
  const scored: { instrument: Instrument; score: number }[] = [];
  for (const instrument of catalogue.all) {
    if (search.region && instrument.region !== search.region) continue;
    if (sector && instrument.sector.toLowerCase() !== sector) continue;
    const score = query ? matchScore(instrument, query) : 0;
    if (score !== undefined) scored.push({ instrument, score });
  }
  scored.sort((a, b) => a.score - b.score || a.instrument.symbol.localeCompare(b.instrument.symbol));
  return scored.slice(0, search.first).map((s) => s.instrument);
}

function matchScore(instrument: Instrument, query: string): number | undefined {
  const symbol = instrument.symbol.toLowerCase();
  const name = fold(instrument.name);
  if (symbol === query || symbol.split('.')[0] === query) return 0;
  if (symbol.startsWith(query)) return 1;
  if (name.split(/[\s\-(&/]+/).some((word) => word.startsWith(query))) return 2;
  if (name.includes(query) || (compact(query) && compact(name).includes(compact(query)))) return 3;
  return undefined;
}
