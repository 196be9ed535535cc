import type { ServiceTarget } from './environment.js';

export interface HealthCheckView {
  name: string;
  ok: boolean;
  detail: string | null;
}

export interface ServiceHealthView {
  service: string;
  url: string;
  ready: boolean;
  checks: HealthCheckView[];
  checkedAt: Date;
  latencyMs: number | null;
  error: string | null;
}

/** What every service's /ready answers (packages/service): `checks` maps each dependency to `ok` or `unavailable: <why>`. */
interface ReadyAnswer {
  status?: unknown;
  checks?: unknown;
}

/**
 * Asks every service's /ready at once, each with `timeoutMs`: one that hangs costs that long, not
 * the sum. A service that does not answer, or not as a service does, is not ready with `error`
 * saying why; the field never fails for it.
 */
export function checkServices(services: ServiceTarget[], timeoutMs: number): Promise<ServiceHealthView[]> {
  return Promise.all(services.map((service) => checkService(service, timeoutMs)));
}

async function checkService(service: ServiceTarget, timeoutMs: number): Promise<ServiceHealthView> {
  const checkedAt = new Date();
  const started = performance.now();
  const base = { service: service.name, url: service.url, checkedAt };
  let response: Response;
  let body: string;
  try {
    response = await fetch(`${service.url}/ready`, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    body = await response.text();
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    return {
      ...base,
      ready: false,
      checks: [],
      latencyMs: timedOut ? null : Math.round(performance.now() - started),
      error: timedOut ? `no answer within ${timeoutMs} ms` : `not reachable (${causeOf(error)})`,
    };
  }
  const latencyMs = Math.round(performance.now() - started);
  let answer: ReadyAnswer | undefined;
  try {
    answer = JSON.parse(body) as ReadyAnswer;
  } catch {
    answer = undefined;
  }
  const checks =
    answer?.checks && typeof answer.checks === 'object'
      ? Object.entries(answer.checks as Record<string, unknown>).map(([name, value]) => ({
          name,
          ok: value === 'ok',
          detail: value === 'ok' ? null : String(value).slice(0, 500),
        }))
      : [];
  const ready = response.status === 200;
  let error: string | null = null;
  if (!answer) error = `answered ${response.status} without the JSON of a /ready`;
  else if (!ready) error = answer.status === 'stopping' ? 'stopping (draining its requests)' : `answered ${response.status}`;
  return { ...base, ready: ready && answer !== undefined, checks, latencyMs, error };
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message.slice(0, 200);
  return error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
}
