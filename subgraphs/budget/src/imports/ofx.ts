/**
 * A reader for OFX bank statements (and QFX, Quicken's OFX with a few extra tags): version 1.x,
 * which is SGML with unclosed leaf elements after a plain-text header, and version 2.x, which is
 * XML. Both are read into one small element tree; only what a statement needs is taken from it.
 */

export interface OfxElement {
  name: string;
  text?: string;
  children: OfxElement[];
}

export interface OfxTransaction {
  /** 1-based position among the statement's transactions. */
  index: number;
  type: string | null;
  postedAt: Date;
  /** Decimal text as written, e.g. "-42.50". */
  amount: string;
  fitId: string | null;
  name: string | null;
  memo: string | null;
}

export interface OfxStatement {
  /** CURDEF: the statement's currency. */
  currency: string | null;
  /** ACCTID of the bank or card account. */
  accountId: string | null;
  transactions: OfxTransaction[];
}

export class OfxError extends Error {
  constructor(
    message: string,
    readonly transaction?: number,
  ) {
    super(message);
    this.name = 'OfxError';
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, entity: string) => {
    if (entity[0] === '#') {
      const code = entity[1]?.toLowerCase() === 'x' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

/** Nesting deeper than this is refused (a statement nests about 8 deep). */
export const OFX_MAX_DEPTH = 32;
/** Elements in one file (a transaction has about 10). */
export const OFX_MAX_ELEMENTS = 300_000;

/**
 * The file without comments (<!-- -->) and processing instructions (<? ?>), in one pass: each kind's
 * next opening is looked up once and kept until passed, so the work is linear in the text. A
 * comment or instruction that is never closed is refused.
 */
function withoutMarkup(text: string): string {
  const kept: string[] = [];
  let at = 0;
  let comment = text.indexOf('<!--');
  let instruction = text.indexOf('<?');
  while (comment !== -1 || instruction !== -1) {
    const isComment = comment !== -1 && (instruction === -1 || comment < instruction);
    const open = isComment ? comment : instruction;
    const close = isComment ? text.indexOf('-->', open + 4) : text.indexOf('?>', open + 2);
    if (close === -1) throw new OfxError(isComment ? 'A comment (<!--) is never closed.' : 'A processing instruction (<?) is never closed.');
    kept.push(text.slice(at, open));
    at = close + (isComment ? 3 : 2);
    if (comment !== -1 && comment < at) comment = text.indexOf('<!--', at);
    if (instruction !== -1 && instruction < at) instruction = text.indexOf('<?', at);
  }
  kept.push(text.slice(at));
  return kept.join('');
}

/**
 * Parses the body of an OFX file into a tree. A leaf element is one followed by text: in SGML its
 * end tag is optional, so it ends at the next tag; an aggregate ends at its end tag, and an end tag
 * with no open element of that name (a leaf's optional one) is ignored. Linear in the text: the
 * open elements are counted by name, so an end tag is matched without searching the stack, and
 * nesting and element count are bounded (OFX_MAX_DEPTH, OFX_MAX_ELEMENTS).
 */
export function parseOfxTree(text: string): OfxElement {
  const start = text.search(/<OFX>/i);
  if (start === -1) throw new OfxError('This is not an OFX file: it has no <OFX> element.');
  const body = withoutMarkup(text.slice(start));
  const root: OfxElement = { name: '#root', children: [] };
  const stack: OfxElement[] = [root];
  /** How many elements of each name are open (on the stack). */
  const open = new Map<string, number>();
  const pop = () => {
    const element = stack.pop()!;
    open.set(element.name, open.get(element.name)! - 1);
  };
  let elements = 0;
  const tag = /<(\/?)([A-Za-z0-9_.]+)\s*(\/?)>|([^<]+)/g;
  let match: RegExpExecArray | null;
  while ((match = tag.exec(body))) {
    const [, closing, name, selfClosing, content] = match;
    const top = stack[stack.length - 1]!;
    if (content !== undefined) {
      const value = content.trim();
      if (!value) continue;
      if (top === root) throw new OfxError('Text outside the <OFX> element.');
      top.text = decodeEntities(value);
      // An element with text is a leaf: nothing nests in it, so it closes here (SGML omits the end tag).
      pop();
      continue;
    }
    const upper = name!.toUpperCase();
    if (closing) {
      if (open.get(upper)) while (stack[stack.length - 1]!.name !== upper) pop();
      if (open.get(upper)) pop();
      continue;
    }
    if (++elements > OFX_MAX_ELEMENTS) throw new OfxError(`The file has more than ${OFX_MAX_ELEMENTS} elements.`);
    const element: OfxElement = { name: upper, children: [] };
    top.children.push(element);
    if (selfClosing) continue;
    if (stack.length > OFX_MAX_DEPTH) throw new OfxError(`Elements are nested more than ${OFX_MAX_DEPTH} deep (at <${upper}>).`);
    stack.push(element);
    open.set(upper, (open.get(upper) ?? 0) + 1);
  }
  if (stack.length > 1 && open.get('OFX')) throw new OfxError(`The file ends inside <${stack[stack.length - 1]!.name}>; it is cut short.`);
  const ofx = root.children.find((e) => e.name === 'OFX');
  if (!ofx) throw new OfxError('This is not an OFX file: it has no <OFX> element.');
  return ofx;
}

function* descendants(element: OfxElement, name: string): Generator<OfxElement> {
  for (const child of element.children) {
    if (child.name === name) yield child;
    yield* descendants(child, name);
  }
}

const first = (element: OfxElement, name: string) => descendants(element, name).next().value as OfxElement | undefined;
const textOf = (element: OfxElement, name: string) => element.children.find((c) => c.name === name)?.text ?? null;

/**
 * OFX date-times: YYYYMMDD, optionally HHMMSS and .XXX milliseconds, optionally [offset:TZ] with
 * the offset in hours (may be fractional, e.g. +5.30 for 5 h 30). Without an offset, GMT.
 */
export function parseOfxDate(text: string): Date | null {
  const match = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,3}))?)?)?\s*(?:\[\s*([+-]?\d{1,2})(?:\.(\d{1,2}))?(?::[A-Za-z]{1,8})?\s*\])?$/.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', ms = '0', offset = '0', offsetFraction] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const local = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s), Number(ms.padEnd(3, '0')));
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    return null;
  }
  const hours = Number(offset);
  // "+5.30" is written by banks to mean 5 h 30 min (and "+5.5" 5 h 30 min too).
  const minutes = offsetFraction ? (offsetFraction.length === 1 ? Number(offsetFraction) * 6 : Number(offsetFraction)) : 0;
  const offsetMs = (Math.abs(hours) * 60 + minutes) * 60_000 * (offset.startsWith('-') ? -1 : 1);
  return new Date(local - offsetMs);
}

/** Reads the transactions of the first bank or credit-card statement in an OFX/QFX file. */
export function parseOfx(text: string): OfxStatement {
  const ofx = parseOfxTree(text);
  const statement = first(ofx, 'STMTRS') ?? first(ofx, 'CCSTMTRS');
  if (!statement) throw new OfxError('The file holds no bank or credit card statement (<STMTRS> or <CCSTMTRS>).');
  const account = first(statement, 'BANKACCTFROM') ?? first(statement, 'CCACCTFROM');
  const list = first(statement, 'BANKTRANLIST');
  const transactions = [...(list ? descendants(list, 'STMTTRN') : [])].map((trn, i): OfxTransaction => {
    const index = i + 1;
    const posted = textOf(trn, 'DTPOSTED');
    const postedAt = posted ? parseOfxDate(posted) : null;
    if (!postedAt) throw new OfxError(`DTPOSTED ${posted === null ? 'is missing' : `"${posted}" is not an OFX date`}.`, index);
    const amount = textOf(trn, 'TRNAMT');
    if (amount === null) throw new OfxError('TRNAMT is missing.', index);
    const payee = trn.children.find((c) => c.name === 'PAYEE');
    return {
      index,
      type: textOf(trn, 'TRNTYPE'),
      postedAt,
      amount,
      fitId: textOf(trn, 'FITID'),
      name: textOf(trn, 'NAME') ?? (payee ? textOf(payee, 'NAME') : null),
      memo: textOf(trn, 'MEMO'),
    };
  });
  return { currency: textOf(statement, 'CURDEF'), accountId: account ? textOf(account, 'ACCTID') : null, transactions };
}
