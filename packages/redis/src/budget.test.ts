import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'node:events';
import { attachGuard, redisGuard, RedisUnavailableError } from './budget.js';
import type { Redis } from 'ioredis';

const budget = { commandTimeoutMs: 50, breakerFailures: 2, breakerOpenMs: 1000, maxPending: 3, reconnectMaxDelayMs: 100 };
/** Each guard belongs to one client: a fresh object per test stands for a fresh connection. */
const guardOf = () => redisGuard({} as Redis, budget);
const never = () => new Promise<never>(() => {});
const reply = <T>(value: T) => Promise.resolve(value);
const replyError = () => Promise.reject(Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' }));

afterEach(() => {
  vi.useRealTimers();
});

describe('the Redis guard (timeout, bounded waiting, circuit breaker)', () => {
  it('gives up a call Redis does not answer within the command timeout', async () => {
    const guard = guardOf();
    const started = Date.now();
    await expect(guard.run(never)).rejects.toThrow(new RedisUnavailableError('Redis did not answer within 50 ms', 1));
    expect(Date.now() - started).toBeLessThan(500);
    expect(guard.state()).toBe('closed');
  });

  it('opens after the failures in a row, then fails at once without calling Redis, with the seconds until the next probe', async () => {
    const guard = guardOf();
    const failing = vi.fn(() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')));
    await expect(guard.run(failing)).rejects.toThrow('Redis could not be reached: connect ECONNREFUSED 127.0.0.1:6379');
    await expect(guard.run(failing)).rejects.toThrow(RedisUnavailableError);
    expect(guard.state()).toBe('open');
    const call = vi.fn(() => reply('OK'));
    await expect(guard.run(call)).rejects.toMatchObject({ message: 'Redis is not answering (circuit open); not asked.', retryAfterSeconds: 1, dependency: 'redis' });
    expect(call).not.toHaveBeenCalled();
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('lets one probe through after the open period: a good answer closes it, a bad one opens it again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const guard = guardOf();
    const failing = () => Promise.reject(new Error('Connection is closed.'));
    await expect(guard.run(failing)).rejects.toThrow();
    await expect(guard.run(failing)).rejects.toThrow();
    vi.setSystemTime(Date.now() + 1000);
    expect(guard.state()).toBe('half-open');
    await expect(guard.run(failing)).rejects.toThrow('Redis could not be reached: Connection is closed.');
    expect(guard.state()).toBe('open');
    vi.setSystemTime(Date.now() + 1000);
    // While the probe is out, other calls still fail at once.
    let answer!: (value: string) => void;
    const probe = guard.run(() => new Promise<string>((resolve) => (answer = resolve)));
    await expect(guard.run(() => reply('other'))).rejects.toThrow('Redis is not answering (circuit open); not asked.');
    answer('PONG');
    await expect(probe).resolves.toBe('PONG');
    expect(guard.state()).toBe('closed');
    await expect(guard.run(() => reply('OK'))).resolves.toBe('OK');
  });

  it('on a real connection, never lets a caller through as the probe, and probes at once when the connection is made again', async () => {
    let answering = false;
    const client = Object.assign(new EventEmitter(), { ping: vi.fn(() => (answering ? reply('PONG') : never())) }) as unknown as Redis & EventEmitter;
    // A long open period: only the reconnection can close it within this test.
    const guard = attachGuard(client, { ...budget, breakerOpenMs: 60_000 });
    const failing = () => Promise.reject(new Error('Connection is closed.'));
    await expect(guard.run(failing)).rejects.toThrow();
    await expect(guard.run(failing)).rejects.toThrow();
    expect(guard.state()).toBe('open');
    const call = vi.fn(() => reply('OK'));
    await expect(guard.run(call)).rejects.toThrow('Redis is not answering (circuit open); not asked.');
    expect(call).not.toHaveBeenCalled();
    // Redis answers again: the connection's 'ready' probes at once and closes the circuit.
    answering = true;
    client.emit('ready');
    await vi.waitFor(() => expect(guard.state()).toBe('closed'), { timeout: 200, interval: 5 });
    expect(client.ping).toHaveBeenCalledTimes(1);
    await expect(guard.run(call)).resolves.toBe('OK');
  });

  it('closes by itself once a background PING is answered, with no traffic and no reconnection (a paused Redis)', async () => {
    let answering = false;
    const client = Object.assign(new EventEmitter(), { ping: vi.fn(() => (answering ? reply('PONG') : never())) }) as unknown as Redis & EventEmitter;
    const changes: unknown[] = [];
    const guard = attachGuard(client, { ...budget, breakerOpenMs: 100 }, (change) => changes.push(change));
    await expect(guard.run(never)).rejects.toThrow('Redis did not answer within 50 ms');
    await expect(guard.run(never)).rejects.toThrow('Redis did not answer within 50 ms');
    expect(guard.state()).toBe('open');
    await vi.waitFor(() => expect(client.ping).toHaveBeenCalledTimes(2), { timeout: 1000, interval: 10 });
    expect(guard.state()).toBe('open');
    answering = true;
    await vi.waitFor(() => expect(guard.state()).toBe('closed'), { timeout: 1000, interval: 10 });
    // Told once when it opened and once when it closed, however many probes failed between.
    expect(changes).toEqual([
      { state: 'open', cause: new Error('Redis did not answer within 50 ms') },
      { state: 'closed', openForMs: expect.any(Number) },
    ]);
  });

  it('does not count an error Redis itself answered as an outage', async () => {
    const guard = guardOf();
    for (let i = 0; i < 3; i++) await expect(guard.run(replyError)).rejects.toMatchObject({ name: 'ReplyError' });
    expect(guard.state()).toBe('closed');
  });

  it('refuses new calls at once while maxPending calls are already waiting', async () => {
    const guard = guardOf();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waiting = [1, 2, 3].map((n) => guard.run(() => gate.then(() => n)));
    await expect(guard.run(() => reply(4))).rejects.toThrow('Redis already has 3 calls waiting; not asked.');
    release();
    expect(await Promise.all(waiting)).toEqual([1, 2, 3]);
    await expect(guard.run(() => reply(5))).resolves.toBe(5);
  });

  it('is one guard per client, shared by every caller', () => {
    const client = {} as Redis;
    expect(redisGuard(client, budget)).toBe(redisGuard(client));
    expect(redisGuard(client).budget).toEqual(budget);
  });
});
