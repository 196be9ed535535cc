// The whole system as an operator runs it: six subgraph processes and the gateway against real
// PostgreSQL, Redis, Kafka and dynalite, used through the one endpoint as a frontend would.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN, DEMO_USER, DEMO_WATCHLIST, SAMPLE_QUERY, seedDemo } from '../../dev/src/demo.js';
import { DEFAULT_PORTS, repoRoot, SUBGRAPHS } from '../../dev/src/processes.js';
import { startStack, type RunningStack } from '../../dev/src/stack.js';
import { GATEWAY_NODE_FLAGS } from '@analytica/gateway/node-flags';
import { csvExport } from '@analytica/budget-subgraph/statement-samples';
import { dropSchema, eventually, freePort, gql, isolatedRunEnv, signInAdmin, uniqueName } from '@analytica/testing';

const run = uniqueName('e2e');
let stack: RunningStack;
let token: string;

beforeAll(async () => {
  const ports = Object.fromEntries(await Promise.all(Object.keys(DEFAULT_PORTS).map(async (name) => [name, await freePort()] as const))) as typeof DEFAULT_PORTS;
  stack = await startStack({
    ports,
    schemaPrefix: `${run}_`,
    logDir: path.join(repoRoot, '.data/test-logs', run),
    dataDir: path.join(repoRoot, '.data/test-secrets'),
    env: {
      LOG_LEVEL: 'info',
      ...isolatedRunEnv(run),
    },
  });
  await seedDemo(stack.gatewayUrl);
  const login = await gql(stack.gatewayUrl, `mutation { login(email: "${DEMO_USER.email}", password: "${DEMO_USER.password}") { accessToken } }`);
  token = login.data.login.accessToken;
});

afterAll(async () => {
  await stack?.stop();
  for (const name of [...SUBGRAPHS, 'notifications', 'inference', 'registry', 'logs']) await dropSchema(`${run}_${name}`);
});

describe('the supergraph through the gateway', () => {
  it('answers one query with data from all six subgraphs', async () => {
    const response = await gql(stack.gatewayUrl, SAMPLE_QUERY, { token });
    expect(response.errors).toBeUndefined();
    const me = response.data.me;
    expect(me.email).toBe(DEMO_USER.email); // user
    expect(me.accounts.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['Everyday', 'Rainy day'])); // budget
    expect(me.accounts[0].balance.currency).toBe('EUR');
    expect(me.watchlist.map((i: { symbol: string }) => i.symbol)).toEqual(DEMO_WATCHLIST); // market
    expect(me.watchlist[0].quote.last).toBeGreaterThan(0);
    expect(me.savedArticles).toHaveLength(3); // news
    expect(me.bankAccounts).toHaveLength(1); // payment
    expect(me.reports.length).toBeGreaterThanOrEqual(1); // insight
  });

  it('refuses an anonymous query for private data with UNAUTHENTICATED', async () => {
    const response = await gql(stack.gatewayUrl, '{ me { id } }');
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a forged token for the whole request with 401', async () => {
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'x', role: 'ADMIN', sid: 'y' })).toString('base64url')}.${signature}`;
    const response = await gql(stack.gatewayUrl, '{ me { id } }', { token: forged });
    expect(response.status).toBe(401);
    expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers malformed GraphQL with 400, a code and no stack trace', async () => {
    const response = await gql(stack.gatewayUrl, '{ me { id ', { token });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(response)).not.toMatch(/stacktrace|at .*\.ts:\d+/);
    const unknownField = await gql(stack.gatewayUrl, '{ me { salary } }', { token });
    expect(unknownField.status).toBe(400);
    expect(unknownField.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('has every service answer /health, /ready and /metrics', async () => {
    for (const [name, service] of stack.services) {
      const health = await fetch(`${service.url}/health`);
      expect(health.status, `${name} /health`).toBe(200);
      const ready = await fetch(`${service.url}/ready`);
      expect(ready.status, `${name} /ready`).toBe(200);
      const metrics = await (await fetch(`${service.metricsUrl}/metrics`)).text();
      expect(metrics, `${name} /metrics`).toContain('http_request_duration_seconds');
      expect(metrics).toContain(`service="${name}"`);
    }
  });

  it("finds one request's log lines from the gateway and each subgraph it passed by its request id, and every process's /ready", async () => {
    const requestId = `one-request-${run}`;
    const response = await gql(stack.gatewayUrl, '{ me { email accounts { name } } }', { token, headers: { 'x-request-id': requestId } });
    expect(response.errors).toBeUndefined();
    const admin = await signInAdmin(stack.gatewayUrl, DEMO_ADMIN);
    const LOGS = 'query($r: String!) { logs(requestId: $r) { available reason entries { service level message requestId json } } }';
    // The services write their files, and the shipper stores them within a poll or two.
    const entries = await eventually(async () => {
      const page = await gql(stack.gatewayUrl, LOGS, { token: admin.accessToken, variables: { r: requestId } });
      const found = (page.data?.logs?.entries ?? []) as { service: string; level: string; message: string; requestId: string; json: string }[];
      const services = new Set(found.map((e) => e.service));
      return ['gateway', 'user', 'budget'].every((s) => services.has(s)) ? found : undefined;
    }, 20_000);
    expect(entries.every((e) => e.requestId === requestId)).toBe(true);
    const gatewayLine = JSON.parse(entries.find((e) => e.service === 'gateway')!.json);
    expect(gatewayLine).toMatchObject({ msg: 'request', path: '/graphql', status: 200, requestId });
    // Nobody else's lines: a user is FORBIDDEN.
    const forbidden = await gql(stack.gatewayUrl, LOGS, { token, variables: { r: requestId } });
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // Every process, each ready. Asked until all are: on a loaded machine one /ready may take longer
    // than the check's 1.5 s once, which the report rightly shows as not ready at that moment.
    type Reported = { service: string; ready: boolean; error: string | null }[];
    let reported: Reported = [];
    await eventually(
      async () => {
        const health = await gql(stack.gatewayUrl, '{ serviceHealth { service ready error } }', { token: admin.accessToken });
        expect(health.errors).toBeUndefined();
        reported = health.data.serviceHealth as Reported;
        return reported.every((s) => s.ready) ? true : undefined;
      },
      30_000,
      1000,
    ).catch(() => undefined);
    expect(reported.map((s) => s.service).sort()).toEqual([...stack.services.keys()].sort());
    expect(reported.filter((s) => !s.ready)).toEqual([]);
  });

  it('runs the log shipper as background work (nice 10) and the services answering users at normal priority', () => {
    // /proc/<pid>/stat: the 19th field is the nice value (after the command name in parentheses).
    const niceOf = (name: Parameters<RunningStack['stopService']>[0]) =>
      Number(
        readFileSync(`/proc/${stack.services.get(name)!.child.pid}/stat`, 'utf8')
          .split(') ')[1]!
          .split(' ')[16],
      );
    expect(niceOf('log-shipper')).toBe(10);
    for (const name of ['gateway', 'user', 'budget', 'market'] as const) expect(niceOf(name), name).toBe(0);
  });

  it("starts the gateway with its Node flags (gateway/src/node-flags.ts: the young generation's size)", () => {
    const commandLine = readFileSync(`/proc/${stack.services.get('gateway')!.child.pid}/cmdline`, 'utf8').split('\0');
    for (const flag of GATEWAY_NODE_FLAGS) expect(commandLine).toContain(flag);
  });

  // Last: it stops a subgraph.
  it('imports a statement larger than a request body through an upload URL on the gateway', async () => {
    const opened = await gql(stack.gatewayUrl, 'mutation { openAccount(input: { name: "Imported", type: CHECKING, currency: "EUR" }) { id } }', { token });
    const accountId = opened.data.openAccount.id;
    const file = csvExport(30_000);
    expect(Buffer.byteLength(file)).toBeGreaterThan(1024 * 1024); // over the gateway's body limit for /graphql
    const started = await gql(stack.gatewayUrl, 'mutation($input: StartStatementUploadInput!) { startStatementUpload(input: $input) { uploadUrl upload { id } } }', {
      token,
      variables: { input: { accountId, fileName: 'statement.csv', byteSize: Buffer.byteLength(file) } },
    });
    expect(started.errors).toBeUndefined();
    const { uploadUrl, upload } = started.data.startStatementUpload;
    expect(new URL(uploadUrl).origin).toBe(new URL(stack.gatewayUrl).origin);
    const put = await fetch(uploadUrl, { method: 'PUT', body: file, headers: { 'content-type': 'text/csv' } });
    expect(put.status).toBe(200);
    const importing = await gql(stack.gatewayUrl, 'mutation($input: ImportStatementInput!) { importStatement(input: $input) { status } }', {
      token,
      variables: { input: { uploadId: upload.id, format: 'CSV', csv: { date: 'Date', payee: 'Payee', amount: 'Amount', notes: 'Notes' } } },
    });
    expect(importing.data.importStatement.status).toBe('IMPORTING');
    const done = await eventually(
      async () => {
        const answer = await gql(stack.gatewayUrl, 'query($id: ID!) { statementUpload(id: $id) { status result { imported } error { message } } }', {
          token,
          variables: { id: upload.id },
        });
        expect(answer.data.statementUpload.status).not.toMatch(/IMPORTING|RECEIVED/);
        return answer.data.statementUpload;
      },
      60_000,
      200,
    );
    expect(done).toEqual({ status: 'IMPORTED', result: { imported: 30_000 }, error: null });
    const listed = await gql(stack.gatewayUrl, 'query($a: ID!) { me { transactions(filter: { accountId: $a }) { totalCount } } }', { token, variables: { a: accountId } });
    expect(listed.data.me.transactions.totalCount).toBe(30_000);

    const other = await gql(stack.gatewayUrl, 'mutation($input: StartStatementUploadInput!) { startStatementUpload(input: $input) { uploadUrl upload { id } } }', {
      token,
      variables: { input: { accountId, fileName: 'x.csv', byteSize: 3 } },
    });
    // A wrong token is refused through the gateway too, with the budget service's answer, even
    // with a megabyte of file still on its way.
    const forged = new URL(other.data.startStatementUpload.uploadUrl);
    forged.searchParams.set('token', 'x'.repeat(43));
    const wrongToken = await fetch(forged, { method: 'PUT', body: file });
    expect(wrongToken.status).toBe(403);
    expect(((await wrongToken.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    // A page on an origin not on the CORS list cannot send a file, as it cannot call /graphql.
    const refused = await fetch(other.data.startStatementUpload.uploadUrl, { method: 'PUT', body: 'a,b', headers: { origin: 'https://not-listed.example' } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const still = await gql(stack.gatewayUrl, 'query($id: ID!) { statementUpload(id: $id) { status } }', { token, variables: { id: other.data.startStatementUpload.upload.id } });
    expect(still.data.statementUpload.status).toBe('AWAITING_FILE');
  });

  it('returns the other subgraphs data and an error naming budget when budget is down', async () => {
    await stack.stopService('budget');
    const response = await gql(stack.gatewayUrl, '{ me { email accounts { name } watchlist { symbol } bankAccounts { id } } }', { token });
    expect(response.data.me.email).toBe(DEMO_USER.email);
    expect(response.data.me.watchlist).toHaveLength(DEMO_WATCHLIST.length);
    expect(response.data.me.bankAccounts).toHaveLength(1);
    expect(response.data.me.accounts).toBeNull();
    expect(response.errors).toHaveLength(1);
    expect(response.errors?.[0]).toMatchObject({
      message: expect.stringContaining('budget'),
      extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'budget' },
    });
  });
});
