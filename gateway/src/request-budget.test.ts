import { afterAll, describe, expect, it } from 'vitest';
import type { Request, Response } from 'express';
import type { AuthUser, TokenVerifier } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { createRequestBudget, retryAfterFromErrors } from './request-budget.js';

// A Redis nobody listens on (port 1): every call fails, as in an outage.
const redis = createRedis('redis://127.0.0.1:1', { budget: { commandTimeoutMs: 200, reconnectMaxDelayMs: 1000 } });
afterAll(() => redis.disconnect());

const user: AuthUser = { id: 'a7c1f1e2-4a8b-4c55-9d3e-2f7d8c9b0a11', role: 'USER', sessionId: 's1' };
const verifier: TokenVerifier = { verify: async () => user, close: async () => {} };

/** Runs the middleware once; what it answered: `next` or a refusal with its status and Retry-After. */
async function send(middleware: ReturnType<typeof createRequestBudget>['middleware'], ip: string) {
  return new Promise<{ passed: boolean; status?: number; retryAfter?: string; ms: number }>((resolve, reject) => {
    const started = Date.now();
    const headers: Record<string, string> = {};
    const res = {
      setHeader: (name: string, value: string) => (headers[name] = value),
      status(code: number) {
        return { json: () => resolve({ passed: false, status: code, retryAfter: headers['retry-after'], ms: Date.now() - started }) };
      },
    } as unknown as Response;
    const req = { ip, headers: { authorization: 'Bearer a.b.c' }, socket: {} } as unknown as Request;
    void middleware(req, res, (error?: unknown) => (error ? reject(error as Error) : resolve({ passed: true, ms: Date.now() - started })));
  });
}

describe('the request budget while Redis cannot answer', () => {
  it("keeps the same budgets in the gateway's memory: within them requests pass at once, beyond them 429 with Retry-After", async () => {
    const budget = createRequestBudget({ redis, verifier, logger: createLogger('test', 'silent'), perUserPerMinute: 3, perIpPerMinute: 100 });
    const outcomes = [];
    for (let i = 0; i < 4; i++) outcomes.push(await send(budget.middleware, `10.0.0.${i}`));
    expect(outcomes.map((o) => o.passed)).toEqual([true, true, true, false]);
    expect(outcomes[3]).toMatchObject({ status: 429, retryAfter: expect.stringMatching(/^[1-9]\d*$/) });
    // No request waits past one command timeout (200 ms here), whatever the state of the connection.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(200 + 300);
  });
});

describe('Retry-After from subgraph errors', () => {
  async function respond(body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] }) {
    const response = { body: { kind: 'single', singleResult: body }, http: { status: undefined as number | undefined, headers: new Map<string, string>() } };
    const hooks = await retryAfterFromErrors.requestDidStart!({} as never);
    await hooks!.willSendResponse!({ response } as never);
    return { status: response.http.status, retryAfter: response.http.headers.get('retry-after') };
  }
  const unavailable = { message: 'The access token could not be checked right now', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'redis', retryAfterSeconds: 2 } };

  it("answers 503 with Retry-After when a subgraph's token check could not run and nothing else has data", async () => {
    expect(await respond({ data: { me: null }, errors: [unavailable] })).toEqual({ status: 503, retryAfter: '2' });
  });

  it('keeps a partial answer 200, with Retry-After', async () => {
    expect(await respond({ data: { me: { email: 'a@b.c', accounts: null } }, errors: [unavailable] })).toEqual({ status: undefined, retryAfter: '2' });
  });

  it('leaves a subgraph that is down (no retryAfterSeconds) as it was', async () => {
    expect(
      await respond({ data: { me: null }, errors: [{ message: 'The budget service is unavailable', extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'budget' } }] }),
    ).toEqual({
      status: undefined,
      retryAfter: undefined,
    });
  });
});
