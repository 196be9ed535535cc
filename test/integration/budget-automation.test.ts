import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@analytica/testing';
import { categoryIds, dataOf, errorOf, openAccount, record, startHarness, type Harness, type Person } from './budget-harness.js';
import { ofxSgml, ofxXml, type SampleLine } from '@analytica/budget-subgraph/statement-samples';

// Rules, schedules and statement imports, through the gateway.
let h: Harness;
beforeAll(async () => {
  // A fast schedule poster, so that auto-posting is seen within the test.
  h = await startHarness({ scheduleIntervalMs: 300 });
});
afterAll(async () => {
  await h?.stop();
});

const RULE = 'mutation($input: RuleInput!) { createRule(input: $input) { id position field operator pattern minAmount { amountMinor currency } category { name } } }';
const createRule = async (who: Person, input: Record<string, unknown>) => dataOf(await who.ask(RULE, { input })).createRule;
const IMPORT = `mutation($input: ImportTransactionsInput!) { importTransactions(input: $input) {
  id dryRun rowCount imported duplicates
  lines(first: 20) { row bookedAt payee notes externalId amount { amountMinor currency } category { name } duplicateOf { id } transaction { id payee } }
} }`;
const importStatement = (who: Person, input: Record<string, unknown>) => who.ask(IMPORT, { input });
const balanceOf = async (who: Person, id: string) => dataOf(await who.ask('query($id: ID!) { account(id: $id) { balance { amountMinor } } }', { id })).account.balance.amountMinor;
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

describe('rules', () => {
  it('categorises new transactions without a category by the first matching rule, in the order the user sets', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const { Transport: transport, 'Eating out': eatingOut, Groceries: groceries, Utilities: utilities } = await categoryIds(ada);
    const taxi = await createRule(ada, { field: 'PAYEE', operator: 'CONTAINS', pattern: 'uber', categoryId: transport });
    const eats = await createRule(ada, { field: 'PAYEE', operator: 'REGEX', pattern: '^uber\\s*eats', categoryId: eatingOut });
    const big = await createRule(ada, {
      field: 'PAYEE_OR_NOTES',
      operator: 'CONTAINS',
      pattern: 'market',
      minAmount: { amountMinor: -100_000, currency: 'EUR' },
      maxAmount: { amountMinor: -5_000, currency: 'EUR' },
      categoryId: groceries,
    });
    const bill = await createRule(ada, { field: 'NOTES', operator: 'REGEX', pattern: 'invoice [0-9]+', categoryId: utilities });
    expect([taxi, eats, big, bill].map((r) => r.position)).toEqual([1, 2, 3, 4]);

    const categoryOf = async (payee: string, amountMinor: number, notes?: string, categoryId?: string) =>
      (await record(ada, { accountId, payee, amountMinor, notes, categoryId })).category?.name ?? null;
    expect(await categoryOf('UBER *TRIP', -1_500)).toBe('Transport');
    expect(await categoryOf('Uber Eats Berlin', -2_300)).toBe('Transport'); // "contains uber" comes first
    expect(await categoryOf('SUPERMARKET 24', -6_000)).toBe('Groceries');
    expect(await categoryOf('Supermarket 24', -4_999)).toBeNull(); // outside the amount range
    expect(await categoryOf('Power & Light', -8_000, 'Invoice 20250301')).toBe('Utilities');
    expect(await categoryOf('UBER *TRIP', -1_500, undefined, eatingOut)).toBe('Eating out'); // a given category wins

    const reordered = dataOf(await ada.ask('mutation($ids: [ID!]!) { reorderRules(ids: $ids) { id position } }', { ids: [eats.id, taxi.id, big.id, bill.id] })).reorderRules;
    expect(reordered.map((r: { position: number }) => r.position)).toEqual([1, 2, 3, 4]);
    expect(await categoryOf('Uber Eats Berlin', -2_300)).toBe('Eating out');
    const { me } = dataOf(await ada.ask('{ me { rules { pattern position category { name } } } }'));
    expect(me.rules.map((r: { pattern: string }) => r.pattern)).toEqual(['^uber\\s*eats', 'uber', 'market', 'invoice [0-9]+']);

    dataOf(await ada.ask('mutation($id: ID!) { deleteRule(id: $id) }', { id: eats.id }));
    expect(await categoryOf('Uber Eats Berlin', -2_300)).toBe('Transport');
  });

  it('refuses an invalid regular expression, a reversed amount range and an incomplete order, naming the field and writing nothing', async () => {
    const ada = h.person();
    const { Transport: transport } = await categoryIds(ada);
    const kept = await createRule(ada, { field: 'PAYEE', operator: 'CONTAINS', pattern: 'bus', categoryId: transport });
    const before = await h.rowCounts();
    const cases: [Record<string, unknown>, string][] = [
      [{ field: 'PAYEE', operator: 'REGEX', pattern: '(unclosed', categoryId: transport }, 'input.pattern'],
      [{ field: 'PAYEE', operator: 'CONTAINS', pattern: '   ', categoryId: transport }, 'input.pattern'],
      [
        {
          field: 'PAYEE',
          operator: 'CONTAINS',
          pattern: 'x',
          categoryId: transport,
          minAmount: { amountMinor: 10, currency: 'EUR' },
          maxAmount: { amountMinor: 5, currency: 'EUR' },
        },
        'input.maxAmount',
      ],
      [
        {
          field: 'PAYEE',
          operator: 'CONTAINS',
          pattern: 'x',
          categoryId: transport,
          minAmount: { amountMinor: 1, currency: 'EUR' },
          maxAmount: { amountMinor: 5, currency: 'USD' },
        },
        'input.maxAmount.currency',
      ],
    ];
    for (const [input, field] of cases) expect(errorOf(await ada.ask(RULE, { input })), field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(errorOf(await ada.ask('mutation($ids: [ID!]!) { reorderRules(ids: $ids) { id } }', { ids: [kept.id, kept.id] }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'ids',
    });
    expect(await h.rowCounts()).toEqual(before);
  });
});

describe('schedules', () => {
  const SCHEDULE = `mutation($input: CreateScheduleInput!) { createSchedule(input: $input) {
    id frequency startsOn endsOn nextOn autoPost upcoming(count: 5) awaitingApproval amount { amountMinor } category { name }
  } }`;

  it('lists the next dates of weekly, monthly and yearly schedules', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const base = { accountId, amount: { amountMinor: -120_000, currency: 'EUR' }, payee: 'Landlord Ltd', autoPost: false };
    const monthly = dataOf(await ada.ask(SCHEDULE, { input: { ...base, frequency: 'MONTHLY', startsOn: '2030-01-31' } })).createSchedule;
    expect(monthly).toMatchObject({ nextOn: '2030-01-31', upcoming: ['2030-01-31', '2030-02-28', '2030-03-31', '2030-04-30', '2030-05-31'], awaitingApproval: [] });
    const weekly = dataOf(await ada.ask(SCHEDULE, { input: { ...base, frequency: 'WEEKLY', startsOn: '2030-12-23', endsOn: '2031-01-06' } })).createSchedule;
    expect(weekly.upcoming).toEqual(['2030-12-23', '2030-12-30', '2031-01-06']);
    const yearly = dataOf(await ada.ask(SCHEDULE, { input: { ...base, frequency: 'YEARLY', startsOn: '2032-02-29' } })).createSchedule;
    expect(yearly.upcoming.slice(0, 3)).toEqual(['2032-02-29', '2033-02-28', '2034-02-28']);
  });

  it('posts due occurrences of an auto-posting schedule by itself, once each, categorised by the rules', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 100_000 });
    const { Transport: transport } = await categoryIds(ada);
    await createRule(ada, { field: 'PAYEE', operator: 'CONTAINS', pattern: 'transit', categoryId: transport });
    const schedule = dataOf(
      await ada.ask(SCHEDULE, {
        input: {
          accountId,
          amount: { amountMinor: -4_900, currency: 'EUR' },
          payee: 'City Transit pass',
          frequency: 'WEEKLY',
          startsOn: day(-15),
          endsOn: day(20),
          autoPost: true,
          tags: ['commute'],
        },
      }),
    ).createSchedule;
    const posted = await eventually(async () => {
      const { me } = dataOf(
        await ada.ask('{ me { transactions { edges { node { scheduledOn bookedAt tags category { name } amount { amountMinor } } } } schedules { nextOn } } }'),
      );
      return me.transactions.edges.length === 3 ? me : undefined;
    }, 30_000);
    expect(posted.transactions.edges.map((e: { node: { scheduledOn: string } }) => e.node.scheduledOn).sort()).toEqual([day(-15), day(-8), day(-1)]);
    for (const { node } of posted.transactions.edges) {
      expect(node).toMatchObject({ tags: ['commute'], category: { name: 'Transport' }, amount: { amountMinor: -4_900 }, bookedAt: `${node.scheduledOn}T00:00:00.000Z` });
    }
    expect(posted.schedules).toEqual([{ nextOn: day(6) }]);
    await new Promise((resolve) => setTimeout(resolve, 900)); // a few more passes of the poster: nothing new
    expect(await balanceOf(ada, accountId)).toBe(100_000 - 3 * 4_900);
    expect(dataOf(await ada.ask('{ me { transactions { totalCount } } }')).me.transactions.totalCount).toBe(3);
    expect(schedule.autoPost).toBe(true);
  });

  it('keeps due occurrences of a manual schedule waiting for approval, posts or skips each once, and refuses a repeat', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const schedule = dataOf(
      await ada.ask(SCHEDULE, {
        input: { accountId, amount: { amountMinor: -2_500, currency: 'EUR' }, payee: 'Cleaner', frequency: 'WEEKLY', startsOn: day(-14), autoPost: false },
      }),
    ).createSchedule;
    expect(schedule.awaitingApproval).toEqual([day(-14), day(-7), day(0)]);
    const APPROVE = 'mutation($id: ID!, $on: String!) { approveScheduledTransaction(id: $id, on: $on) { id scheduledOn amount { amountMinor } } }';
    const SKIP = 'mutation($id: ID!, $on: String!) { skipScheduledTransaction(id: $id, on: $on) { nextOn awaitingApproval } }';
    const first = dataOf(await ada.ask(APPROVE, { id: schedule.id, on: day(-14) })).approveScheduledTransaction;
    expect(first).toMatchObject({ scheduledOn: day(-14), amount: { amountMinor: -2_500 } });
    const [again, concurrent] = await Promise.all([ada.ask(APPROVE, { id: schedule.id, on: day(-14) }), ada.ask(SKIP, { id: schedule.id, on: day(-7) })]);
    expect(errorOf(again)).toMatchObject({ code: 'CONFLICT', field: 'on' });
    expect(dataOf(concurrent).skipScheduledTransaction).toEqual({ nextOn: day(0), awaitingApproval: [day(0)] });
    dataOf(await ada.ask(APPROVE, { id: schedule.id, on: day(0) }));
    const early = await ada.ask(APPROVE, { id: schedule.id, on: day(7) });
    expect(errorOf(early)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'on' });
    const { me } = dataOf(await ada.ask('{ me { transactions { totalCount } schedules { nextOn awaitingApproval } } }'));
    expect(me).toEqual({ transactions: { totalCount: 2 }, schedules: [{ nextOn: day(7), awaitingApproval: [] }] });
  });

  it('refuses an impossible date, an end before the start and a wrong currency, naming the field and writing nothing', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const base = { accountId, amount: { amountMinor: -100, currency: 'EUR' }, payee: 'Gym', frequency: 'MONTHLY', startsOn: '2030-01-01', autoPost: true };
    const before = await h.rowCounts();
    for (const [patch, field] of [
      [{ startsOn: '2030-02-29' }, 'input.startsOn'],
      [{ endsOn: '2029-12-31' }, 'input.endsOn'],
      [{ amount: { amountMinor: -100, currency: 'USD' } }, 'input.amount.currency'],
      [{ amount: { amountMinor: 0, currency: 'EUR' } }, 'input.amount.amountMinor'],
    ] as const) {
      expect(errorOf(await ada.ask(SCHEDULE, { input: { ...base, ...patch } })), field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(await h.rowCounts()).toEqual(before);
  });
});

describe('imports', () => {
  const GERMAN_MAPPING = {
    delimiter: ';',
    date: 'Buchungstag',
    dateFormat: 'DD.MM.YYYY',
    debit: 'Soll',
    credit: 'Haben',
    decimalSeparator: ',',
    payee: 'Empfänger',
    notes: 'Verwendungszweck',
  };
  const GERMAN = [
    'Buchungstag;Empfänger;Verwendungszweck;Soll;Haben',
    '03.03.2025;Eckladen GmbH;Lebensmittel;42,50;',
    '04.03.2025;ACME AG;Gehalt März;;2.500,00',
    '05.03.2025;Stadtwerke;Rechnung 77;89,00;',
  ].join('\n');
  const OFX_LINES: SampleLine[] = [
    { posted: '20250310120000.000[-5:EST]', amount: '-12.30', fitId: 'F-100', name: 'COFFEE BAR', memo: 'card 1234' },
    { posted: '20250311', amount: '-64.00', fitId: 'F-101', name: 'CITY TRANSIT' },
    { posted: '20250312', amount: '150.00', fitId: 'F-102', name: 'REFUND SHOP' },
  ];

  it('imports a CSV export with a column mapping, categorising lines by the rules, with one event per line', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada, { opening: 10_000 });
    const { Groceries: groceries } = await categoryIds(ada);
    await createRule(ada, { field: 'NOTES', operator: 'CONTAINS', pattern: 'lebensmittel', categoryId: groceries });
    const outboxBefore = Number((await h.rowCounts())!.outbox);
    const result = dataOf(await importStatement(ada, { accountId, format: 'CSV', content: GERMAN, csv: GERMAN_MAPPING })).importTransactions;
    expect(result).toMatchObject({ dryRun: false, rowCount: 3, imported: 3, duplicates: 0, id: expect.any(String) });
    expect(
      result.lines.map((l: { row: number; payee: string; amount: { amountMinor: number }; category: { name: string } | null }) => [
        l.row,
        l.payee,
        l.amount.amountMinor,
        l.category?.name ?? null,
      ]),
    ).toEqual([
      [2, 'Eckladen GmbH', -4_250, 'Groceries'],
      [3, 'ACME AG', 250_000, null],
      [4, 'Stadtwerke', -8_900, null],
    ]);
    expect(result.lines.every((l: { transaction: { id: string } | null }) => l.transaction?.id)).toBe(true);
    expect(await balanceOf(ada, accountId)).toBe(10_000 - 4_250 + 250_000 - 8_900);
    expect(Number((await h.rowCounts())!.outbox) - outboxBefore).toBe(3);
  });

  it('imports OFX 1.x, QFX and OFX 2.x statements, skipping lines already booked by bank id or by amount, payee and date', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const first = dataOf(await importStatement(ada, { accountId, format: 'OFX', content: ofxSgml(OFX_LINES) })).importTransactions;
    expect(first).toMatchObject({ rowCount: 3, imported: 3, duplicates: 0 });
    expect(first.lines[0]).toMatchObject({
      bookedAt: '2025-03-10T17:00:00.000Z',
      payee: 'COFFEE BAR',
      notes: 'card 1234',
      externalId: 'F-100',
      amount: { amountMinor: -1_230, currency: 'EUR' },
    });

    // The next statement overlaps: F-101 and F-102 again, plus a new line.
    const next = [...OFX_LINES.slice(1), { posted: '20250314', amount: '-8.99', fitId: 'F-103', name: 'BOOKSHOP' }];
    const second = dataOf(await importStatement(ada, { accountId, format: 'QFX', content: ofxSgml(next, { intuit: true }) })).importTransactions;
    expect(second).toMatchObject({ rowCount: 3, imported: 1, duplicates: 2 });
    expect(second.lines.map((l: { duplicateOf: { id: string } | null }) => l.duplicateOf?.id ?? null)).toEqual([
      first.lines[1].transaction.id,
      first.lines[2].transaction.id,
      null,
    ]);

    // A card statement in OFX 2.x (XML), then the same purchases from a CSV export without bank ids, two days off.
    const card = dataOf(
      await importStatement(ada, { accountId, format: 'OFX', content: ofxXml([{ posted: '20250320', amount: '-30.00', fitId: 'C-1', name: 'Cinema City' }]) }),
    ).importTransactions;
    expect(card).toMatchObject({ imported: 1, duplicates: 0 });
    const csv = 'Date,Payee,Amount\n2025-03-22,CINEMA CITY,-30.00\n2025-03-27,Cinema City,-30.00\n';
    const fromCsv = dataOf(await importStatement(ada, { accountId, format: 'CSV', content: csv, csv: { date: 'Date', payee: 'Payee', amount: 'Amount' } })).importTransactions;
    expect(fromCsv).toMatchObject({ imported: 1, duplicates: 1 });
    expect(fromCsv.lines[0].duplicateOf.id).toBe(card.lines[0].transaction.id);
    const wider = dataOf(
      await importStatement(ada, { accountId, format: 'CSV', content: csv, csv: { date: 'Date', payee: 'Payee', amount: 'Amount' }, duplicateWindowDays: 0, dryRun: true }),
    ).importTransactions;
    expect(wider).toMatchObject({ dryRun: true, imported: 1, duplicates: 1 }); // the 27th is booked now; the 22nd is two days from the 20th
    expect(await balanceOf(ada, accountId)).toBe(-1_230 - 6_400 + 15_000 - 899 - 3_000 - 3_000);
  });

  it('previews an import in a dry run, with categories and duplicates, and writes nothing', async () => {
    const ada = h.person();
    const accountId = await openAccount(ada);
    const { Transport: transport } = await categoryIds(ada);
    await createRule(ada, { field: 'PAYEE', operator: 'CONTAINS', pattern: 'transit', categoryId: transport });
    await record(ada, { accountId, amountMinor: -1_230, payee: 'Coffee Bar', bookedAt: '2025-03-11T09:00:00Z' });
    const before = await h.rowCounts();
    const preview = dataOf(await importStatement(ada, { accountId, format: 'OFX', content: ofxSgml(OFX_LINES), dryRun: true })).importTransactions;
    expect(preview).toMatchObject({ id: null, dryRun: true, rowCount: 3, imported: 2, duplicates: 1 });
    expect(
      preview.lines.map((l: { category: { name: string } | null; duplicateOf: unknown; transaction: unknown }) => [
        l.category?.name ?? null,
        Boolean(l.duplicateOf),
        l.transaction,
      ]),
    ).toEqual([
      [null, true, null],
      ['Transport', false, null],
      [null, false, null],
    ]);
    expect(await h.rowCounts()).toEqual(before);
  });

  it('refuses a file with a wrong column or one bad line, naming the mapping field or the line, and imports nothing', async () => {
    const ada = h.person();
    const eve = h.person();
    const accountId = await openAccount(ada);
    const usd = await openAccount(ada, { currency: 'USD', name: 'Dollars' });
    const evesAccount = await openAccount(eve);
    const before = await h.rowCounts();
    const badLine = GERMAN.replace('89,00', '89,001');
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [{ accountId, format: 'CSV', content: GERMAN, csv: { ...GERMAN_MAPPING, debit: 'Betrag' } }, { field: 'input.csv.debit' }],
      [{ accountId, format: 'CSV', content: GERMAN }, { field: 'input.csv' }],
      [
        { accountId, format: 'CSV', content: badLine, csv: GERMAN_MAPPING },
        { field: 'input.content', row: 4, column: 'Soll' },
      ],
      [
        { accountId, format: 'CSV', content: GERMAN.replace('04.03.2025', '31.02.2025'), csv: GERMAN_MAPPING },
        { field: 'input.content', row: 3, column: 'Buchungstag' },
      ],
      [
        { accountId, format: 'CSV', content: `${GERMAN}\n06.03.2025;Kiosk`, csv: GERMAN_MAPPING },
        { field: 'input.content', row: 5 },
      ],
      [
        { accountId, format: 'OFX', content: ofxSgml(OFX_LINES).replace('<TRNAMT>-64.00', '<TRNAMT>-64.001') },
        { field: 'input.content', row: 2 },
      ],
      [
        { accountId, format: 'OFX', content: ofxSgml(OFX_LINES).replace('<DTPOSTED>20250311', '<DTPOSTED>20250231') },
        { field: 'input.content', row: 2 },
      ],
      [{ accountId: usd, format: 'OFX', content: ofxSgml(OFX_LINES) }, { field: 'input.content' }],
      [{ accountId, format: 'OFX', content: GERMAN }, { field: 'input.content' }],
      [{ accountId, format: 'CSV', content: GERMAN, csv: GERMAN_MAPPING, duplicateWindowDays: 90 }, { field: 'input.duplicateWindowDays' }],
    ];
    for (const [input, extensions] of cases) {
      const response = await importStatement(ada, input);
      expect(errorOf(response), JSON.stringify(extensions)).toMatchObject({ code: 'BAD_USER_INPUT', ...extensions });
    }
    expect(errorOf(await importStatement(ada, { accountId: evesAccount, format: 'CSV', content: GERMAN, csv: GERMAN_MAPPING }))).toMatchObject({
      code: 'NOT_FOUND',
      field: 'input.accountId',
    });
    expect(await h.rowCounts()).toEqual(before);
  });
});
