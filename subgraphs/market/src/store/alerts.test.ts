import { describe, expect, it } from 'vitest';
import { crossedAlerts, decodeRules, type AlertRule } from './alerts.js';
import { alertIndexKey } from './redis-keys.js';

const above100: AlertRule = { alertId: 'a', userId: 'u1', direction: 'ABOVE', threshold: 100 };
const below95: AlertRule = { alertId: 'b', userId: 'u2', direction: 'BELOW', threshold: 95 };
const ids = (rules: AlertRule[]) => rules.map((r) => r.alertId);

describe('crossedAlerts', () => {
  it('fires ABOVE when the price reaches or passes the threshold from below, and BELOW the other way', () => {
    expect(ids(crossedAlerts([above100, below95], 99.5, 100))).toEqual(['a']);
    expect(ids(crossedAlerts([above100, below95], 99.5, 101))).toEqual(['a']);
    expect(ids(crossedAlerts([above100, below95], 96, 95))).toEqual(['b']);
    // A jump across both thresholds in one trade fires the one it crosses in its direction.
    expect(ids(crossedAlerts([above100, below95], 101, 90))).toEqual(['b']);
  });

  it('fires once per crossing: staying beyond the threshold does not fire again, coming back and crossing again does', () => {
    const path = [98, 99, 100.5, 101, 100.2, 99.9, 100, 100, 102];
    const fired = path.slice(1).map((price, n) => crossedAlerts([above100], path[n]!, price).length);
    expect(fired).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
  });
});

describe('the alert index', () => {
  it('shares the hash tag of the quote key, so a symbol stays on one Redis Cluster slot', () => {
    expect(alertIndexKey('US', 'AAPL')).toBe('alerts:{US:AAPL}');
  });

  it('skips entries that do not parse', () => {
    const rules = decodeRules({
      a: JSON.stringify({ userId: 'u1', direction: 'ABOVE', threshold: 100 }),
      b: 'not json',
      c: JSON.stringify({ userId: 'u', direction: 'SIDEWAYS', threshold: 1 }),
    });
    expect(rules).toEqual([above100]);
  });
});
