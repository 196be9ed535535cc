import type { FailureKind } from './environment.js';

/** z-score of the 99th percentile of the standard normal distribution. */
const Z_99 = 2.326_347_874;

export interface BehaviourSettings {
  latencyMedianMs: number;
  latencyP99Ms: number;
  failureRate: number;
  failureKinds: FailureKind[];
  hangMs: number;
}

/**
 * How the simulated bank misbehaves. Latency is log-normal, as service times are: most calls are
 * quick and a long tail is slow; the median and the 99th percentile fix the curve. A share of the
 * payment calls fails in one of the ways a real provider does.
 */
export function createBehaviour(initial: BehaviourSettings, random: () => number = Math.random) {
  let settings = normalise(initial);

  function normal(): number {
    // Box-Muller; 1 - u keeps the logarithm away from zero.
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  return {
    get settings(): BehaviourSettings {
      return { ...settings, failureKinds: [...settings.failureKinds] };
    },
    update(patch: Partial<BehaviourSettings>) {
      settings = normalise({ ...settings, ...patch });
      return this.settings;
    },
    /** One call's latency in milliseconds, capped at ten times the 99th percentile. */
    latencyMs(): number {
      const { latencyMedianMs: median, latencyP99Ms: p99 } = settings;
      if (median === 0) return 0;
      const sigma = Math.log(p99 / median) / Z_99;
      return Math.min(median * Math.exp(sigma * normal()), p99 * 10);
    },
    /** The failure to inject into one payment call, or null for a normal answer. */
    failure(): FailureKind | null {
      if (settings.failureKinds.length === 0 || random() >= settings.failureRate) return null;
      return settings.failureKinds[Math.floor(random() * settings.failureKinds.length)] ?? null;
    },
  };
}
export type Behaviour = ReturnType<typeof createBehaviour>;

function normalise(s: BehaviourSettings): BehaviourSettings {
  const latencyMedianMs = Math.max(0, s.latencyMedianMs);
  return {
    latencyMedianMs,
    latencyP99Ms: Math.max(latencyMedianMs, s.latencyP99Ms),
    failureRate: Math.min(1, Math.max(0, s.failureRate)),
    failureKinds: [...new Set(s.failureKinds)],
    hangMs: Math.max(0, s.hangMs),
  };
}
