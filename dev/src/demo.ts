import { nextOpen, neverCloses, TRADING_HOURS, venueStatus } from '@analytica/instruments';
import { gql } from '@analytica/testing';

export const DEMO_USER = { email: 'demo@analytica.dev', password: 'demo-password-123', displayName: 'Demo Investor' };
export const DEMO_ADMIN = { email: 'admin@analytica.dev', password: 'admin-password-123' };
/** BTC-USD trades every day, so the watchlist has live prices at the weekend too. */
export const DEMO_WATCHLIST = ['AAPL', 'MSFT', 'NVDA', 'SAP.DE', '7203.T', 'BTC-USD'];

export const SAMPLE_QUERY = `{
  me {
    id email
    accounts { name balance { amountMinor currency } }
    watchlist { symbol quote { last changePercent } }
    savedArticles { id title }
    bankAccounts { id bankName }
    reports { id period startsOn }
  }
}`;

async function call(url: string, query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await gql(url, query, { variables, token });
  if (response.errors?.length) {
    throw new Error(`demo seed: ${response.errors.map((e) => `${e.message} (${e.extensions?.code ?? '?'})`).join('; ')}`);
  }
  return response.data;
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

/**
 * Seeds the demo user through the public endpoint, as a frontend would: accounts, transactions,
 * a budget, a watchlist, saved articles, a linked bank account and a report. Skipped when the
 * demo user already has accounts (a second start keeps the data as it is).
 */
export async function seedDemo(gatewayUrl: string): Promise<'seeded' | 'kept'> {
  let token: string;
  try {
    token = (
      await call(gatewayUrl, 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }', {
        e: DEMO_USER.email,
        p: DEMO_USER.password,
      })
    ).login.accessToken;
  } catch {
    token = (
      await call(gatewayUrl, 'mutation($input: RegisterInput!) { register(input: $input) { accessToken } }', {
        input: { ...DEMO_USER, homeCurrency: 'EUR' },
      })
    ).register.accessToken;
  }
  const me = await call(gatewayUrl, '{ me { accounts { id } categories { id name } } }', {}, token);
  if (me.me.accounts.length > 0) return 'kept';

  const open = async (name: string, type: string, opening: number) =>
    (
      await call(
        gatewayUrl,
        'mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }',
        { input: { name, type, currency: 'EUR', openingBalance: { amountMinor: opening, currency: 'EUR' } } },
        token,
      )
    ).openAccount.id as string;
  const everyday = await open('Everyday', 'CHECKING', 250_000);
  await open('Rainy day', 'SAVINGS', 1_200_000);

  const category = (name: string) => (me.me.categories as { id: string; name: string }[]).find((c) => c.name === name)?.id ?? null;
  const spending: [number, string, string, number][] = [
    [2, 'Corner Market', 'Groceries', -4_250],
    [3, 'City Transit', 'Transport', -2_900],
    [5, 'Acme Corp', 'Salary', 320_000],
    [6, 'Landlord Ltd', 'Rent', -110_000],
    [8, 'Green Grocer', 'Groceries', -3_180],
    [10, 'Power & Light', 'Utilities', -8_900],
    [12, 'Trattoria Roma', 'Eating out', -5_640],
    [15, 'Cinema City', 'Entertainment', -2_400],
    [20, 'Corner Market', 'Groceries', -6_020],
    [33, 'Acme Corp', 'Salary', 320_000],
    [35, 'Landlord Ltd', 'Rent', -110_000],
    [40, 'Corner Market', 'Groceries', -5_510],
  ];
  for (const [ago, payee, categoryName, amountMinor] of spending) {
    await call(
      gatewayUrl,
      'mutation($input: RecordTransactionInput!) { recordTransaction(input: $input) { id } }',
      { input: { accountId: everyday, amount: { amountMinor, currency: 'EUR' }, bookedAt: daysAgo(ago), payee, categoryId: category(categoryName) } },
      token,
    );
  }
  const groceries = category('Groceries');
  if (groceries) {
    const monthStart = `${new Date().toISOString().slice(0, 7)}-01`;
    await call(
      gatewayUrl,
      'mutation($input: SetBudgetInput!) { setBudget(input: $input) { id } }',
      { input: { categoryId: groceries, period: 'MONTHLY', startsOn: monthStart, amount: { amountMinor: 40_000, currency: 'EUR' } } },
      token,
    );
  }
  for (const symbol of DEMO_WATCHLIST) {
    await call(gatewayUrl, 'mutation($s: String!) { addToWatchlist(symbol: $s) { symbol } }', { s: symbol }, token);
  }
  const articles = await call(gatewayUrl, '{ articles(first: 3) { edges { node { id } } } }', {}, token);
  for (const edge of articles.articles.edges as { node: { id: string } }[]) {
    await call(gatewayUrl, 'mutation($id: ID!) { saveArticle(id: $id) { id } }', { id: edge.node.id }, token);
  }
  // Linked through a consent at the (simulated) bank; it waits for the code emailed to the demo user.
  const connection = (
    await call(gatewayUrl, 'mutation($input: ConnectBankInput!) { connectBank(input: $input) { id accounts { accountId name } } }', { input: { bankName: 'Demo Bank' } }, token)
  ).connectBank as { id: string; accounts: { accountId: string; name: string }[] };
  const current = connection.accounts.find((a) => a.name === 'Current account') ?? connection.accounts[0];
  if (current) {
    await call(
      gatewayUrl,
      'mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id } }',
      { input: { connectionId: connection.id, accountId: current.accountId } },
      token,
    );
  }
  await call(
    gatewayUrl,
    'mutation($p: ReportPeriod!, $s: String!) { generateReport(period: $p, startsOn: $s) { id } }',
    { p: 'MONTHLY', s: `${new Date().toISOString().slice(0, 7)}-01` },
    token,
  );
  return 'seeded';
}

/**
 * Banner lines on the market: the venues trading now, and when the closed ones open (UTC, grouped
 * by the time they open), from the same hours the feed trades by.
 */
export function venueLines(now: Date, alwaysOpen: boolean): string[] {
  if (alwaysOpen) return ['Venues open now:   all of them, around the clock (FEED_ALWAYS_OPEN=true)'];
  const open: string[] = [];
  const opening = new Map<number, string[]>();
  for (const mic of Object.keys(TRADING_HOURS)) {
    if (venueStatus(mic, now).state === 'OPEN') {
      open.push(neverCloses(mic) ? `${mic} (crypto and currency pairs, never closes)` : mic);
      continue;
    }
    const at = nextOpen(mic, now)!.getTime();
    opening.set(at, [...(opening.get(at) ?? []), mic]);
  }
  const day = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'short' });
  const when = (ms: number) => `${day.format(ms)} ${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}`;
  const lines = [`Venues open now:   ${open.join(', ') || 'none'}`];
  [...opening.keys()].sort((a, b) => a - b).forEach((at, n) => lines.push(`${n === 0 ? 'Next opens (UTC):  ' : '                   '}${when(at)}  ${opening.get(at)!.join(', ')}`));
  return lines;
}

export function banner(gatewayUrl: string, mode: string, extra: string[] = []): string {
  return [
    '',
    `Analytica is running (${mode}).`,
    '',
    `  GraphQL endpoint:  ${gatewayUrl}`,
    `  GraphQL IDE:       ${gatewayUrl} in a browser (GraphiQL, served by the gateway; sign in at its foot)`,
    `  Demo user:         ${DEMO_USER.email} / ${DEMO_USER.password}`,
    `  Admin:             ${DEMO_ADMIN.email} / ${DEMO_ADMIN.password}`,
    `  Admin console:     ${new URL('/console/', gatewayUrl).href} (sign in as the admin; the first sign-in enrols an authenticator app)`,
    ...extra.map((line) => `  ${line}`),
    '',
    'Sign in, then send the token as "Authorization: Bearer <accessToken>":',
    '',
    `  curl -s ${gatewayUrl} -H 'content-type: application/json' \\`,
    `    -d '{"query":"mutation { login(email: \\"${DEMO_USER.email}\\", password: \\"${DEMO_USER.password}\\") { accessToken } }"}'`,
    '',
    'A first query:',
    '',
    ...SAMPLE_QUERY.split('\n').map((line) => `  ${line}`),
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
