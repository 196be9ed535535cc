// The error codes the API can return (errors[].extensions.code), as the source raises them and as
// the README's "Errors" table documents them; error-codes.test.ts keeps the two equal.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Where the code that answers clients lives (tests and test helpers excluded). */
export const ERROR_SOURCE_ROOTS = ['packages', 'subgraphs', 'gateway', 'workers'];
const SOURCE_FILE = /\.(ts|mts|js|mjs)$/;
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', 'coverage', '.turbo', 'test', 'tests', '__tests__', 'fixtures']);
/** Test support, not code that answers clients. */
const SKIPPED_PACKAGES = new Set(['packages/testing']);
const TEST_FILE = /\.(test|spec|int\.test)\.(ts|mts|js|mjs)$|\.setup\.ts$/;

/** A code: upper-case words joined by underscores, e.g. BAD_USER_INPUT. */
const CODE = '[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z]{4,}';

/**
 * How code raises an extensions.code, each with the code in group 1:
 * - `ErrorCode.NOT_FOUND` (packages/errors' list, used by its helpers badInput, notFound, ... and by `new AppError`);
 * - `code: 'FORBIDDEN'` / `code = '...'` (extensions written out, JSON error bodies, a typed `code:` parameter);
 * - a code literal given to a GraphQL error class: `new Refusal(400, 'BAD_REQUEST', ...)` (GraphQLError, AppError, Refusal);
 * - a constant named after its code, given to such a class or as `code`: `new Refusal(400, PERSISTED_QUERY_NOT_FOUND, ...)`.
 */
const RAISES: RegExp[] = [
  new RegExp(`\\bErrorCode\\.(${CODE})\\b`, 'g'),
  new RegExp(`\\bcode\\s*[:=]\\s*['"\`](${CODE})['"\`]`, 'g'),
  new RegExp(`\\bnew\\s+(?:GraphQLError|AppError|Refusal)\\((?:[^()'"\`]|\\([^()]*\\))*?['"\`](${CODE})['"\`]`, 'g'),
];
/** A constant named after its code (`const PERSISTED_QUERY_NOT_FOUND = 'PERSISTED_QUERY_NOT_FOUND'`)... */
const CODE_CONSTANT = new RegExp(`\\bconst\\s+(${CODE})\\s*=\\s*['"\`]\\1['"\`]`, 'g');
/** ...counts where it is given to a GraphQL error class or as a `code`. */
const usesConstant = (name: string) => new RegExp(`\\bnew\\s+(?:GraphQLError|AppError|Refusal)\\((?:[^()'"\`]|\\([^()]*\\))*?\\b${name}\\b|\\bcode\\s*[:=]\\s*${name}\\b`, 'g');

/** Apollo's own codes that packages/errors lets through to clients (its KNOWN_CODES list): raised by Apollo, not by us. */
const PASSED_THROUGH = /\bKNOWN_CODES\s*=\s*new Set<string>\(\[([^\]]*)\]/;

/** Source text without comments (strings kept), so that a code named in a comment does not count. */
export function withoutComments(source: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += source[++i] ?? '';
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += source.slice(i, stop).replace(/[^\n]/g, ''); // keep the line numbers
      i = stop - 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    out += c;
  }
  return out;
}

export interface RaisedCode {
  code: string;
  /** Where it is raised: `path:line`, relative to the repository. */
  at: string[];
}

/** Every code the source under `roots` raises, with where; sorted by code. */
export function raisedErrorCodes(repoRoot: string, roots = ERROR_SOURCE_ROOTS): RaisedCode[] {
  const found = new Map<string, string[]>();
  const note = (code: string, file: string, text: string, index: number) => {
    const line = text.slice(0, index).split('\n').length;
    const list = found.get(code) ?? [];
    list.push(`${path.relative(repoRoot, file)}:${line}`);
    found.set(code, list);
  };
  for (const file of sourceFiles(repoRoot, roots)) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    for (const pattern of RAISES) for (const match of text.matchAll(pattern)) note(match[1]!, file, text, match.index);
    for (const constant of text.matchAll(CODE_CONSTANT)) {
      for (const use of text.matchAll(usesConstant(constant[1]!))) note(constant[1]!, file, text, use.index);
    }
    const passed = PASSED_THROUGH.exec(text);
    if (passed) {
      for (const literal of passed[1]!.matchAll(new RegExp(`['"](${CODE})['"]`, 'g'))) note(literal[1]!, file, text, passed.index);
    }
  }
  return [...found].map(([code, at]) => ({ code, at })).sort((a, b) => a.code.localeCompare(b.code));
}

function sourceFiles(repoRoot: string, roots: string[]): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRECTORIES.has(entry.name) && !entry.name.startsWith('.') && !SKIPPED_PACKAGES.has(path.relative(repoRoot, full))) walk(full);
      } else if (SOURCE_FILE.test(entry.name) && !TEST_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(full);
      }
    }
  };
  for (const root of roots) walk(path.join(repoRoot, root));
  return files.sort();
}

export interface DocumentedCode {
  code: string;
  httpStatus: string;
  meaning: string;
  clientAction: string;
}

/**
 * The rows of the README's error table: the first table under the heading "Errors" whose header
 * starts with "code". Each row's first cell is the code in backticks.
 */
export function documentedErrorCodes(readme: string): DocumentedCode[] {
  const lines = readme.split('\n');
  const heading = lines.findIndex((l) => /^#{2,4}\s+Errors\s*$/.test(l));
  if (heading < 0) throw new Error('README.md has no "Errors" heading');
  const header = lines.findIndex((l, i) => i > heading && /^\|\s*code\s*\|/i.test(l));
  if (header < 0) throw new Error('README.md has no table under "Errors" whose first column is "code"');
  const rows: DocumentedCode[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, line.trimEnd().endsWith('|') ? line.trimEnd().length - 1 : undefined)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    const code = /^`([^`]+)`$/.exec(cells[0] ?? '')?.[1] ?? cells[0] ?? '';
    rows.push({ code, httpStatus: cells[1] ?? '', meaning: cells[2] ?? '', clientAction: cells[3] ?? '' });
  }
  return rows;
}
