import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Request, Response } from 'express';
import type { AuthUser, TokenVerifier } from '@analytica/auth';
import { createLogger } from '@analytica/logger';
import { createRedis } from '@analytica/redis';
import { services } from '@analytica/testing';
import { createRequestBudget } from './request-budget.js';

// The request budget in the real Redis, with requests arriving together (issue 18: the spends of
// one turn of the event loop share one script call); the counts must stay exact.
const prefix = `budget-test-${randomUUID()}:`;
const redis = createRedis(services.redisUrl, { keyPrefix: prefix });
// Connected before the first request: while it is not, the budget is kept in memory instead.
beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys.map((key) => key.slice(prefix.length)));
  await redis.quit();
});

const userOf = (id: string): AuthUser => ({ id, role: 'USER', sessionId: `s-${id}` });
/** A token here is "<user id>.signed.x" (the shape of a JWT), or none. */
const verifier: TokenVerifier = { verify: async (token: string) => userOf(token.split('.')[0]!), close: async () => {} };

/** The budget's script, for counting its calls. */
const scripts = redis as unknown as { spendBudgetsBy: (...args: unknown[]) => Promise<number[]> };
const budgetWith = (limits: { perUserPerMinute: number; perIpPerMinute: number; windowMs?: number }) =>
  createRequestBudget({ redis, verifier, logger: createLogger('test', 'silent'), ...limits });

type Outcome = { passed: boolean; status?: number; retryAfter?: string };
function send(middleware: ReturnType<typeof createRequestBudget>['middleware'], ip: string, userId?: string) {
  return new Promise<Outcome>((resolve, reject) => {
    const headers: Record<string, string> = {};
    const res = {
      setHeader: (name: string, value: string) => (headers[name] = value),
      status: (code: number) => ({ json: () => resolve({ passed: false, status: code, retryAfter: headers['retry-after'] }) }),
    } as unknown as Response;
    const req = { ip, headers: userId ? { authorization: `Bearer ${userId}.signed.x` } : {}, socket: {} } as unknown as Request;
    void middleware(req, res, (error?: unknown) => (error ? reject(error as Error) : resolve({ passed: true })));
  });
}

describe('the request budget in Redis, requests arriving together', () => {
  it('lets exactly the budget through, first come first served, in one script call', async () => {
    const budget = budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 40 });
    const calls = vi.spyOn(scripts, 'spendBudgetsBy');
    const ip = `10.1.${Math.floor(Math.random() * 250)}.1`;
    const outcomes = await Promise.all(Array.from({ length: 60 }, () => send(budget.middleware, ip)));
    expect(outcomes.slice(0, 40).every((o) => o.passed)).toBe(true);
    expect(outcomes.slice(40)).toEqual(Array.from({ length: 20 }, () => ({ passed: false, status: 429, retryAfter: expect.stringMatching(/^[1-9]\d*$/) })));
    expect(calls).toHaveBeenCalledTimes(1);
    // The next one, alone, is counted after them.
    expect(await send(budget.middleware, ip)).toMatchObject({ passed: false, status: 429 });
    calls.mockRestore();
  });

  it("counts each user's budget and each address's on its own within one batch", async () => {
    const budget = budgetWith({ perUserPerMinute: 3, perIpPerMinute: 1000 });
    const [alice, bob] = [randomUUID(), randomUUID()];
    const ip = `10.2.${Math.floor(Math.random() * 250)}.1`;
    const who = [alice, bob, alice, alice, bob, alice, alice];
    const outcomes = await Promise.all(who.map((userId) => send(budget.middleware, ip, userId)));
    // Alice's 4th and 5th are over her 3; Bob's 2 are within his.
    expect(outcomes.map((o) => o.passed)).toEqual([true, true, true, true, true, false, false]);
    // Spread over turns of the event loop, the same budgets hold.
    const later = [];
    for (const userId of [bob, bob]) later.push(await send(budget.middleware, ip, userId));
    expect(later.map((o) => o.passed)).toEqual([true, false]);
  });

  it('sends the spends that arrive while a call is in flight together in the next one, counted in arrival order', async () => {
    const budget = budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 6 });
    const real = scripts.spendBudgetsBy.bind(redis);
    // Each call's answer comes back 40 ms late, as from a busy Redis.
    const calls = vi.spyOn(scripts, 'spendBudgetsBy').mockImplementation(async (...args) => {
      const counts = await real(...args);
      await new Promise((r) => setTimeout(r, 40));
      return counts;
    });
    try {
      const ip = `10.4.${Math.floor(Math.random() * 250)}.1`;
      const first = send(budget.middleware, ip);
      await new Promise((r) => setTimeout(r, 5)); // its call is in flight now
      // Eight more, each in its own turn of the event loop, while that call is out.
      const later: Promise<Outcome>[] = [];
      for (let i = 0; i < 8; i++) {
        later.push(send(budget.middleware, ip));
        await new Promise((r) => setImmediate(r));
      }
      const outcomes = [await first, ...(await Promise.all(later))];
      expect(outcomes.map((o) => o.passed)).toEqual([true, true, true, true, true, true, false, false, false]);
      expect(calls).toHaveBeenCalledTimes(2);
    } finally {
      calls.mockRestore();
    }
  });

  it('splits a crowd larger than one batch and still counts exactly', async () => {
    const budget = budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 500 });
    const ip = `10.3.${Math.floor(Math.random() * 250)}.1`;
    const outcomes = await Promise.all(Array.from({ length: 700 }, () => send(budget.middleware, ip)));
    expect(outcomes.filter((o) => o.passed)).toHaveLength(500);
    expect(outcomes.slice(0, 500).every((o) => o.passed)).toBe(true);
  });

  it("spends a busy budget's requests from leases: a handful of Redis calls for hundreds of requests", async () => {
    const budget = budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 5000 });
    const calls = vi.spyOn(scripts, 'spendBudgetsBy');
    try {
      const ip = `10.5.${Math.floor(Math.random() * 250)}.1`;
      const outcomes: Outcome[] = [];
      // One after another, each in its own turn: nothing to batch, so each would be its own call.
      for (let i = 0; i < 300; i++) outcomes.push(await send(budget.middleware, ip));
      expect(outcomes.every((o) => o.passed)).toBe(true);
      // Taken ahead 0, 1, 2, 4, ... then 64 at a time (5000 / 50 caps it at 100, LEASE_MAX at 64): 11 calls.
      expect(calls.mock.calls.length).toBeLessThanOrEqual(12);
    } finally {
      calls.mockRestore();
    }
  });

  it('lets exactly the budget through when two gateways spend it, leases and all', async () => {
    const gateways = [0, 1].map(() => budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 200 }));
    const ip = `10.6.${Math.floor(Math.random() * 250)}.1`;
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 300; i++) outcomes.push(await send(gateways[i % 2]!.middleware, ip));
    // What one gateway leased is counted in Redis at once; whatever it holds, the other is refused beyond the budget.
    expect(outcomes.filter((o) => o.passed)).toHaveLength(200);
    expect(outcomes.slice(250).every((o) => !o.passed && o.status === 429)).toBe(true);
  });

  it('refuses a spent budget without asking Redis again until its window ends, then lets requests through', async () => {
    const budget = budgetWith({ perUserPerMinute: 1000, perIpPerMinute: 10, windowMs: 600 });
    const calls = vi.spyOn(scripts, 'spendBudgetsBy');
    try {
      const ip = `10.7.${Math.floor(Math.random() * 250)}.1`;
      const first = await Promise.all(Array.from({ length: 11 }, () => send(budget.middleware, ip)));
      expect(first.map((o) => o.passed)).toEqual([...Array.from({ length: 10 }, () => true), false]);
      const callsSoFar = calls.mock.calls.length;
      for (let i = 0; i < 20; i++) expect(await send(budget.middleware, ip)).toEqual({ passed: false, status: 429, retryAfter: '1' });
      expect(calls.mock.calls.length).toBe(callsSoFar);
      await new Promise((r) => setTimeout(r, 700));
      expect(await send(budget.middleware, ip)).toEqual({ passed: true });
    } finally {
      calls.mockRestore();
    }
  });
});
