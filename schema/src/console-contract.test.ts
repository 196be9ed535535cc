// Issue 16: the admin console is a contract of its own. Admin fields are tagged `admin`; every
// partner contract of schema/contracts.yaml excludes them, and the `console` contract has them,
// with everything the console's pages ask for.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildSchema, parse, validate, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { repoRoot, supergraphPath } from './composition.js';
import { contractSchemaOf, hasCoordinate, tagsOf } from './contracts.js';
import { readContractsConfig } from './registry/contract-store.js';

const shipped = readFileSync(supergraphPath, 'utf8');
const contracts = await readContractsConfig(path.join(repoRoot, 'schema/contracts.yaml'));
const consoleContract = contracts.find((c) => c.name === 'console');
const partnerContracts = contracts.filter((c) => c.name !== 'console');
const tags = tagsOf(parse(shipped));
const apiSchema = buildSchema(readFileSync(path.join(repoRoot, 'schema/api.graphql'), 'utf8'));

/** Query and Mutation fields tagged `admin` in the supergraph, as coordinates. */
const adminFields = [...tags].filter(([coordinate, names]) => /^(Query|Mutation)\.\w+$/.test(coordinate) && names.has('admin')).map(([coordinate]) => coordinate);

/** The root fields whose description says they are for administrators only. */
function describedAsAdminOnly(): string[] {
  return (['Query', 'Mutation'] as const).flatMap((root) =>
    Object.values((apiSchema.getType(root) as GraphQLObjectType).getFields())
      .filter((field) => /^(Administrators|Admin)\b/.test(field.description ?? ''))
      .map((field) => `${root}.${field.name}`),
  );
}

/** The GraphQL documents of the console's pages: every gql(`...`) in console/src, with its interpolations filled in. */
function consoleDocuments(): { file: string; document: string }[] {
  const dir = path.join(repoRoot, 'console/src');
  const session = readFileSync(path.join(dir, 'session.ts'), 'utf8');
  const authPayloadFields = /AUTH_PAYLOAD_FIELDS = '([^']+)'/.exec(session)![1]!;
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.tsx'));
  return files.flatMap((file) =>
    [...readFileSync(path.join(dir, file), 'utf8').matchAll(/gql\(`([\s\S]*?)`\)/g)].map((m) => ({
      file,
      document: m[1]!.replaceAll('${AUTH_PAYLOAD_FIELDS}', authPayloadFields),
    })),
  );
}

describe('the console contract and the partner contracts', () => {
  it('tags every root field described as for administrators `admin`', () => {
    const admin = describedAsAdminOnly();
    expect(admin.length).toBeGreaterThanOrEqual(24);
    expect(admin.filter((coordinate) => !adminFields.includes(coordinate))).toEqual([]);
    for (const expected of [
      'Query.users',
      'Query.auditLog',
      'Query.partners',
      'Mutation.setUserDisabled',
      'Query.articleFlags',
      'Mutation.hideArticle',
      'Mutation.blockNewsSource',
    ])
      expect(adminFields).toContain(expected);
    expect(adminFields).toEqual(expect.arrayContaining(['Query.paymentDeadLetters', 'Mutation.replayPaymentDeadLetter', 'Mutation.replayAllPaymentDeadLetters']));
    // The paged admin lists (issue 15).
    expect(adminFields).toEqual(
      expect.arrayContaining([
        'Query.articleFlagsConnection',
        'Query.newsAuditLogConnection',
        'Query.hiddenArticles',
        'Query.blockedNewsSources',
        'Query.paymentDeadLettersConnection',
      ]),
    );
  });

  it('keeps every admin field out of every partner contract', () => {
    expect(partnerContracts.map((c) => c.name)).toEqual(expect.arrayContaining(['market-data', 'budget-with-consent']));
    for (const contract of partnerContracts) {
      expect(contract.exclude, contract.name).toContain('admin');
      const sdl = contractSchemaOf(shipped, contract);
      expect(
        adminFields.filter((coordinate) => hasCoordinate(sdl, coordinate)),
        contract.name,
      ).toEqual([]);
    }
  });

  it('gives the console contract every admin field and the sign-in it needs', () => {
    expect(consoleContract).toBeDefined();
    const sdl = contractSchemaOf(shipped, consoleContract!);
    expect(adminFields.filter((coordinate) => !hasCoordinate(sdl, coordinate))).toEqual([]);
    for (const coordinate of ['Mutation.login', 'Mutation.refreshSession', 'Mutation.logout', 'Mutation.beginTotpEnrolment', 'Mutation.confirmTotpEnrolment'])
      expect(hasCoordinate(sdl, coordinate), coordinate).toBe(true);
    // Nothing a reader does for themselves: the console contract is the administrators' API.
    for (const coordinate of ['Mutation.initiatePayment', 'Query.articles', 'Query.quote']) expect(hasCoordinate(sdl, coordinate), coordinate).toBe(false);
  });

  it("validates every document of the console's pages against the console contract", () => {
    const schema = buildSchema(contractSchemaOf(shipped, consoleContract!));
    const documents = consoleDocuments();
    expect(documents.length).toBeGreaterThanOrEqual(20);
    const invalid = documents.flatMap(({ file, document }) => validate(schema, parse(document)).map((error) => `${file}: ${error.message}`));
    expect(invalid).toEqual([]);
  });
});
