// Sign-in latency: argon2id (19 MiB, 2 passes) plus the session, refresh token and audit rows,
// measured through the gateway and straight at the user service; and the time a wrong password
// and an unknown email take, which must be alike so that timing does not reveal accounts.
//
//   npx tsx bench/auth/login.ts
//   BENCH_LOGINS=200 npx tsx bench/auth/login.ts
import { gql } from '@analytica/testing';
import { quantile, say, startAuthServices, USER } from './services.js';

const LOGINS = Number(process.env.BENCH_LOGINS ?? 60);
const LOGIN = 'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }';

async function timed(url: string, email: string, password: string, expectOk: boolean): Promise<number> {
  const started = process.hrtime.bigint();
  const response = await gql(url, LOGIN, { variables: { e: email, p: password } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (expectOk !== !response.errors) throw new Error(`unexpected answer: ${JSON.stringify(response.errors ?? response.data)}`);
  return ms;
}

async function series(label: string, count: number, run: (i: number) => Promise<number>) {
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await run(i));
  times.sort((a, b) => a - b);
  say(`  ${label.padEnd(34)} p50 ${quantile(times, 0.5).toFixed(1).padStart(6)} ms   p99 ${quantile(times, 0.99).toFixed(1).padStart(6)} ms   (n=${count})`);
  return times;
}

const system = await startAuthServices();
try {
  say(`Sign-in latency (${LOGINS} sequential sign-ins each; argon2id m=19 MiB t=2 p=1)`);
  for (let i = 0; i < 5; i++) await timed(system.gatewayUrl, USER.email, USER.password, true); // warm-up
  await series('login through the gateway', LOGINS, () => timed(system.gatewayUrl, USER.email, USER.password, true));
  await series('login at the user service', LOGINS, () => timed(system.userUrl, USER.email, USER.password, true));
  const wrong = await series('wrong password', Math.min(LOGINS, 40), () => timed(system.userUrl, USER.email, 'not the password at all', false));
  const unknown = await series('unknown email', Math.min(LOGINS, 40), (i) => timed(system.userUrl, `nobody${i}@example.com`, 'not the password at all', false));
  say(`  median difference wrong password vs unknown email: ${(quantile(wrong, 0.5) - quantile(unknown, 0.5)).toFixed(1)} ms`);

  const concurrency = 4;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = 0; i < LOGINS / concurrency; i++) await timed(system.gatewayUrl, USER.email, USER.password, true);
    }),
  );
  say(`  ${concurrency} concurrent clients: ${((LOGINS / (Date.now() - started)) * 1000).toFixed(1)} sign-ins/s through the gateway`);
} finally {
  await system.stop();
}
