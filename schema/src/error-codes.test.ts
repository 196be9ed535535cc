import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './composition.js';
import { documentedErrorCodes, raisedErrorCodes, withoutComments } from './error-codes.js';

// Issue 15: one table in the README of every extensions.code the API can return, kept honest both
// ways: a code the source raises must have a row, and a row must name a code the source raises.
describe('the README error table', () => {
  const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const documented = documentedErrorCodes(readme);
  const raised = raisedErrorCodes(repoRoot);

  it('documents every code the source raises', () => {
    const rows = new Set(documented.map((d) => d.code));
    const undocumented = raised.filter((r) => !rows.has(r.code)).map((r) => `${r.code} (raised at ${r.at.slice(0, 3).join(', ')})`);
    expect(undocumented, 'codes raised in packages/, subgraphs/, gateway/ or workers/ without a row in the README\'s "Errors" table').toEqual([]);
  });

  it('has no row for a code nothing raises', () => {
    const codes = new Set(raised.map((r) => r.code));
    expect(
      documented.filter((d) => !codes.has(d.code)).map((d) => d.code),
      'rows of the README\'s "Errors" table that no source raises',
    ).toEqual([]);
  });

  it('gives each code one complete row: HTTP status, meaning and what the client should do', () => {
    const incomplete = documented.filter((d) => !/^[A-Z][A-Z0-9_]+$/.test(d.code) || !d.httpStatus || !d.meaning || !d.clientAction).map((d) => d.code);
    expect(incomplete).toEqual([]);
    const codes = documented.map((d) => d.code);
    expect(codes.filter((c, i) => codes.indexOf(c) !== i)).toEqual([]);
  });

  it('finds the codes however the source raises them', () => {
    // The scanner itself: one of each way of raising, and none from a comment.
    expect(raised.map((r) => r.code)).toEqual(expect.arrayContaining(['BAD_USER_INPUT', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'GRAPHQL_VALIDATION_FAILED']));
    expect(withoutComments("a // code: 'X_Y'\nb /* ErrorCode.Z_Z */ c 'not // a comment'")).toBe("a \nb  c 'not // a comment'");
  });
});

describe('the error code scanner', () => {
  it('finds each way of raising a code, and nothing else', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'error-codes-'));
    try {
      mkdirSync(path.join(root, 'src/test'), { recursive: true });
      writeFileSync(
        path.join(root, 'src/a.ts'),
        [
          "throw new AppError(ErrorCode.ONE_CODE, 'x');",
          "res.json({ errors: [{ extensions: { code: 'TWO_CODE' } }] });",
          "throw new Refusal(400, 'THREE_CODE', 'message');",
          "const FOUR_CODE = 'FOUR_CODE';",
          'throw new Refusal(400, FOUR_CODE, "message");',
          "const UNUSED_CODE = 'UNUSED_CODE';",
          "throw new BankRefusal('NOT_GRAPHQL', 'an internal error, not an extensions.code');",
          "// code: 'IN_COMMENT'",
          "const KNOWN_CODES = new Set<string>([...x, 'FIVE_CODE']);",
        ].join('\n'),
      );
      writeFileSync(path.join(root, 'src/a.test.ts'), "throw new AppError(ErrorCode.IN_TEST, 'x');");
      writeFileSync(path.join(root, 'src/test/helper.ts'), "throw new AppError(ErrorCode.IN_TEST_FOLDER, 'x');");
      expect(raisedErrorCodes(root, ['src']).map((r) => r.code)).toEqual(['FIVE_CODE', 'FOUR_CODE', 'ONE_CODE', 'THREE_CODE', 'TWO_CODE']);
      expect(raisedErrorCodes(root, ['src']).find((r) => r.code === 'FOUR_CODE')?.at).toEqual(['src/a.ts:5']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads the README table', () => {
    const readme =
      '# X\n\n### Errors\n\ntext\n\n| code | HTTP status | meaning | what to do |\n| --- | --- | --- | --- |\n| `A_B` | 400 | bad | fix |\n| `C_D` | 200 | | |\n\nafter\n| `E_F` | x | y | z |\n';
    expect(documentedErrorCodes(readme)).toEqual([
      { code: 'A_B', httpStatus: '400', meaning: 'bad', clientAction: 'fix' },
      { code: 'C_D', httpStatus: '200', meaning: '', clientAction: '' },
    ]);
  });
});
