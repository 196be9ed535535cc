import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// kafkajs 2.2.4 re-arms a 1 ms timer on every broker connection forever once a response has been
// handled, even with nothing queued (kafkajs#1556): each idle service then woke its event loop
// ~1,000 times a second and burnt 5 % of a core doing nothing. patches/kafkajs+2.2.4.patch (applied
// by `npm install`'s postinstall) stops that; this test fails if the patch is missing.
const require = createRequire(import.meta.url);
const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (options: Record<string, unknown>) => {
  throttledUntil: number;
  pending: unknown[];
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  destroy(): void;
};

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };
const queue = () =>
  new RequestQueue({
    instrumentationEmitter: null,
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: '127.0.0.1:9092',
    logger: quietLogger,
    isConnected: () => true,
  });

describe('kafkajs request queue of an idle connection', () => {
  it('arms no timer when nothing is pending and nothing is throttled', () => {
    const idle = queue();
    idle.checkPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();
    idle.destroy();
  });

  it('still checks again when the broker throttles the connection', () => {
    const throttled = queue();
    throttled.throttledUntil = Date.now() + 50;
    throttled.checkPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
    throttled.destroy();
  });
});
