/**
 * Alerts from Prometheus' HTTP API (GET /api/v1/alerts): the rules of infra/prometheus/alerts.yml
 * that are pending or firing now. Prometheus being unset or away never fails the query: the report
 * says `available: false` and why.
 */
export type AlertState = 'PENDING' | 'FIRING';

export interface AlertView {
  name: string;
  state: AlertState;
  severity: string | null;
  service: string | null;
  summary: string | null;
  activeSince: Date | null;
}

export interface AlertsView {
  available: boolean;
  reason: string | null;
  alerts: AlertView[];
}

interface PrometheusAlert {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  state?: string;
  activeAt?: string;
}

export interface AlertsSource {
  read(): Promise<AlertsView>;
}

const STATES: Record<string, AlertState> = { firing: 'FIRING', pending: 'PENDING' };

/** Reads alerts from `prometheusUrl` (PROMETHEUS_URL); undefined: every read answers unavailable. */
export function prometheusAlerts(prometheusUrl: string | undefined, options: { timeoutMs?: number } = {}): AlertsSource {
  const timeoutMs = options.timeoutMs ?? 3000;
  const base = prometheusUrl?.replace(/\/+$/, '');
  return {
    async read() {
      if (!base) return { available: false, reason: 'PROMETHEUS_URL is not set: this deployment runs no Prometheus for the user service to ask.', alerts: [] };
      let body: { status?: string; data?: { alerts?: PrometheusAlert[] }; error?: string };
      try {
        const response = await fetch(`${base}/api/v1/alerts`, { signal: AbortSignal.timeout(timeoutMs) });
        body = (await response.json()) as typeof body;
        if (!response.ok || body.status !== 'success') throw new Error(`answered ${response.status}${body.error ? `: ${body.error}` : ''}`);
      } catch (error) {
        return { available: false, reason: `Prometheus at ${base} did not answer: ${(error as Error).message}`, alerts: [] };
      }
      const alerts = (body.data?.alerts ?? []).flatMap((a): AlertView[] => {
        const state = STATES[a.state ?? ''];
        if (!state) return []; // "inactive" is not reported by this API; anything else is not an alert we show
        const activeSince = a.activeAt ? new Date(a.activeAt) : null;
        return [
          {
            name: a.labels?.alertname ?? 'unnamed',
            state,
            severity: a.labels?.severity ?? null,
            service: a.labels?.service ?? null,
            summary: a.annotations?.summary ?? null,
            activeSince: activeSince && !Number.isNaN(activeSince.getTime()) ? activeSince : null,
          },
        ];
      });
      // Firing first, then the longest active.
      alerts.sort((a, b) => (a.state === b.state ? (a.activeSince?.getTime() ?? 0) - (b.activeSince?.getTime() ?? 0) : a.state === 'FIRING' ? -1 : 1));
      return { available: true, reason: null, alerts };
    },
  };
}
