// The soak's HTTP users, set up as a person would through the gateway: register, open an account,
// connect a bank and link an account, verified with the code the notifications worker mails to the
// SMTP catcher of infra/up.sh.
import { gql } from '@analytica/testing';

export interface SoakUser {
  email: string;
  token: string;
  refreshToken: string;
  accountId: string;
  bankAccountId: string;
  /** Payments this user initiated during the soak. */
  payments: string[];
}

const CATCHER_URL = process.env.SMTP_CATCHER_URL ?? 'http://127.0.0.1:8025';

export async function catcherMessages(to?: string): Promise<{ to: string[]; subject: string; text: string }[]> {
  const response = await fetch(`${CATCHER_URL}/messages${to ? `?to=${encodeURIComponent(to)}` : ''}`);
  if (!response.ok) throw new Error(`the SMTP catcher at ${CATCHER_URL} answered ${response.status}`);
  return ((await response.json()) as { messages: { to: string[]; subject: string; text: string }[] }).messages;
}

async function call<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const answer = await gql(url, query, { variables, token });
  if (answer.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(answer.errors)}`);
  return answer.data as T;
}

async function mailedCode(email: string, subject: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const mail = (await catcherMessages(email)).find((m) => m.subject === subject);
    const code = mail && /\n {4}(\d{6})\n/.exec(mail.text)?.[1];
    if (code) return code;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no "${subject}" mail reached ${email} within 60 s`);
}

/** `count` users, one after another (each registration hashes a password: argon2id). */
export async function registerSoakUsers(graphqlUrl: string, count: number, run: string): Promise<SoakUser[]> {
  const users: SoakUser[] = [];
  for (let i = 0; i < count; i++) {
    const email = `soak-${i}-${run.replace(/_/g, '-')}@example.com`;
    const { register } = await call<{ register: { accessToken: string; refreshToken: string } }>(
      graphqlUrl,
      'mutation($input: RegisterInput!) { register(input: $input) { accessToken refreshToken } }',
      {
        input: { email, password: `soak password ${run} ${i}`, displayName: `Soak User ${i}`, homeCurrency: 'EUR' },
      },
    );
    const token = register.accessToken;
    const { openAccount } = await call<{ openAccount: { id: string } }>(
      graphqlUrl,
      'mutation($input: OpenAccountInput!) { openAccount(input: $input) { id } }',
      { input: { name: 'Everyday', type: 'CHECKING', currency: 'EUR' } },
      token,
    );
    const { connectBank } = await call<{ connectBank: { id: string; accounts: { accountId: string; name: string }[] } }>(
      graphqlUrl,
      'mutation { connectBank(input: { bankName: "Sandbox Bank" }) { id accounts { accountId name } } }',
      {},
      token,
    );
    const current = connectBank.accounts.find((a) => a.name === 'Current account')!;
    const { linkBankAccount } = await call<{ linkBankAccount: { id: string; accountNumber: string } }>(
      graphqlUrl,
      'mutation($input: LinkBankAccountInput!) { linkBankAccount(input: $input) { id accountNumber } }',
      { input: { connectionId: connectBank.id, accountId: current.accountId } },
      token,
    );
    const code = await mailedCode(email, `Your code to verify ${linkBankAccount.accountNumber}`);
    await call(graphqlUrl, 'mutation($id: ID!, $code: String!) { verifyBankAccount(id: $id, code: $code) { status } }', { id: linkBankAccount.id, code }, token);
    users.push({ email, token, refreshToken: register.refreshToken, accountId: openAccount.id, bankAccountId: linkBankAccount.id, payments: [] });
  }
  return users;
}
