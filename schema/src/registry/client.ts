/** A refusal from the registry, with its code (BAD_USER_INPUT, NOT_FOUND, COMPOSITION_FAILED, ...). */
export class RegistryClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: { field?: string; details?: string[] } = {},
  ) {
    super(message);
    this.name = 'RegistryClientError';
  }
}

/** The registry's HTTP API as functions: used by the CLI, CI, tests and benchmarks. */
export function registryClient(baseUrl: string, token: string, options: { timeoutMs?: number } = {}) {
  const base = baseUrl.replace(/\/+$/, '');
  // The API's JSON as is: its shapes are the registry's (registry.ts), checked by the tests through this client.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function request(method: string, path: string, body?: unknown, accept: 'json' | 'text' = 'json'): Promise<any> {
    let response: Response;
    try {
      response = await fetch(`${base}/api${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new RegistryClientError(0, 'UNREACHABLE', `The registry at ${base} does not answer (${(error as Error).message}): is it running? (REGISTRY_URL)`);
    }
    if (!response.ok) {
      const text = await response.text();
      let error: { code?: string; message?: string; field?: string; details?: string[] } = {};
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
      } catch {
        error = { message: text.slice(0, 500) };
      }
      throw new RegistryClientError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText, error);
    }
    return accept === 'text' ? { text: await response.text(), version: Number(response.headers.get('x-schema-version')), etag: response.headers.get('etag') } : response.json();
  }
  const qs = (params: Record<string, string | number | undefined>) => {
    const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][];
    return entries.length ? `?${new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()}` : '';
  };
  return {
    publish: (subgraphs: { name: string; sdl: string; url: string }[], provenance: { commit?: string; author?: string } = {}) =>
      request('POST', '/publish', { subgraphs, ...provenance }),
    check: (input: { subgraph: string; sdl: string; url?: string; windowDays?: number; approved?: string[]; strict?: boolean }) => request('POST', '/check', input),
    supergraph: (version?: number | string) => request('GET', `/supergraph${qs({ version })}`, undefined, 'text') as Promise<{ text: string; version: number; etag: string }>,
    apiSchema: (version?: number | string) => request('GET', `/api-schema${qs({ version })}`, undefined, 'text') as Promise<{ text: string; version: number }>,
    log: (limit?: number) => request('GET', `/versions${qs({ limit })}`),
    version: (version: number | string) => request('GET', `/versions/${encodeURIComponent(String(version))}`),
    diff: (from: number | string, to: number | string) => request('GET', `/diff${qs({ from, to })}`),
    rollback: (to: number | string, provenance: { commit?: string; author?: string } = {}) => request('POST', '/rollback', { to, ...provenance }),
    subgraphs: () => request('GET', '/subgraphs'),
    subgraphSdl: (name: string, version?: number | string) => request('GET', `/subgraphs/${encodeURIComponent(name)}/sdl${qs({ version })}`),
    usageOperations: (query: { from?: string; to?: string; client?: string } = {}) => request('GET', `/usage/operations${qs(query)}`),
    usageSeries: (query: { from?: string; to?: string; bucketMinutes?: number; client?: string } = {}) => request('GET', `/usage/series${qs(query)}`),
    gateways: () => request('GET', '/gateways') as Promise<{ gateways: { instanceId: string; schemaVersion: number | null; lastSeenAt: string }[] }>,
    usageFields: (query: { from?: string; to?: string; client?: string; coordinate?: string } = {}) => request('GET', `/usage/fields${qs(query)}`),
    reportUsage: (batch: unknown) => request('POST', '/usage', batch),
    createToken: (name: string, scopes: string[]) => request('POST', '/tokens', { name, scopes }) as Promise<{ name: string; scopes: string[]; token: string }>,
    revokeToken: (name: string) => request('DELETE', `/tokens/${encodeURIComponent(name)}`),
    // Contracts (docs/partners.md section 2).
    contracts: () => request('GET', '/contracts'),
    putContract: (name: string, definition: { description?: string; include: string[]; exclude: string[] }) => request('PUT', `/contracts/${encodeURIComponent(name)}`, definition),
    contractSchemas: () => request('GET', '/contracts/schemas') as Promise<{ contracts: { name: string; version: number; schemaVersion: number; sdl: string }[] }>,
    contractChangelog: (name: string, limit?: number) => request('GET', `/contracts/${encodeURIComponent(name)}/changelog${qs({ limit })}`),
    deprecate: (name: string, approval: { coordinate: string; reason: string; removeAfter: string }) =>
      request('POST', `/contracts/${encodeURIComponent(name)}/deprecations`, approval),
    appDocument: (appId: string, hash: string) =>
      request('GET', `/apps/${encodeURIComponent(appId)}/documents/${encodeURIComponent(hash)}`) as Promise<{ appId: string; hash: string; document: string; contract: string }>,
    // Partner routes: `token` is then the partner app's access token.
    partnerContract: () => request('GET', '/partner/contract', undefined, 'text') as Promise<{ text: string }>,
    partnerChangelog: () => request('GET', '/partner/changelog'),
    partnerManifest: (operations: Record<string, string>) => request('PUT', '/partner/manifest', { operations }),
    partnerDocs: () => request('GET', '/partner/docs', undefined, 'text') as Promise<{ text: string }>,
  };
}
export type RegistryClient = ReturnType<typeof registryClient>;
