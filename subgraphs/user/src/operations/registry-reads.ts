/**
 * What the admin console reads from the schema registry (schema/src/registry): the gateways that
 * poll it with the schema version each serves (GET /api/gateways), and usage over time
 * (GET /api/usage/series). REGISTRY_URL and a `read` token (REGISTRY_TOKEN); unset or away, the
 * answer is `available: false` with a reason, never an error.
 */
export type Read<T> = { available: true; reason: null; value: T } | { available: false; reason: string; value: null };

export interface GatewayInstanceView {
  instanceId: string;
  schemaVersion: number | null;
  lastSeenAt: Date;
}

export interface UsagePointView {
  bucketStart: Date;
  operationName: string | null;
  clientName: string;
  requests: number;
  errors: number;
  p95Ms: number | null;
}

/** The registry refused the question itself (bad range, bad bucket): the caller's input, not an outage. */
export class RegistryRefusal extends Error {
  constructor(
    readonly field: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export interface RegistryReads {
  gateways(): Promise<Read<GatewayInstanceView[]>>;
  usage(query: { since: Date; until?: Date | null; bucketMinutes: number; clientName?: string | null }): Promise<Read<UsagePointView[]>>;
}

export function registryReads(options: { url?: string; token?: string; timeoutMs?: number }): RegistryReads {
  const base = options.url?.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;

  async function get<T>(path: string): Promise<Read<T>> {
    if (!base || !options.token)
      return { available: false, reason: 'REGISTRY_URL and REGISTRY_TOKEN are not both set: the user service has no schema registry to read.', value: null };
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${base}/api${path}`, { headers: { authorization: `Bearer ${options.token}` }, signal: AbortSignal.timeout(timeoutMs) });
      body = await response.json();
    } catch (error) {
      return { available: false, reason: `The schema registry at ${base} did not answer: ${(error as Error).message}`, value: null };
    }
    const refusal = (body as { error?: { code?: string; message?: string; field?: string } }).error;
    if (response.status === 400 && refusal?.code === 'BAD_USER_INPUT') throw new RegistryRefusal(refusal.field, refusal.message ?? 'The registry refused the question.');
    if (!response.ok) return { available: false, reason: `The schema registry at ${base} answered ${response.status}: ${refusal?.message ?? 'no reason given'}`, value: null };
    return { available: true, reason: null, value: body as T };
  }

  return {
    async gateways() {
      const read = await get<{ gateways: { instanceId: string; schemaVersion: number | null; lastSeenAt: string }[] }>('/gateways');
      if (!read.available) return read;
      return { ...read, value: read.value.gateways.map((g) => ({ instanceId: g.instanceId, schemaVersion: g.schemaVersion, lastSeenAt: new Date(g.lastSeenAt) })) };
    },
    async usage(query) {
      const params = new URLSearchParams({ from: query.since.toISOString(), bucketMinutes: String(query.bucketMinutes) });
      if (query.until) params.set('to', query.until.toISOString());
      if (query.clientName) params.set('client', query.clientName);
      const read = await get<{ points: (Omit<UsagePointView, 'bucketStart'> & { bucketStart: string })[] }>(`/usage/series?${params.toString()}`);
      if (!read.available) return read;
      return { ...read, value: read.value.points.map((p) => ({ ...p, bucketStart: new Date(p.bucketStart) })) };
    },
  };
}
