import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { PartnerClaim } from '@analytica/auth';
import type { Logger } from '@analytica/logger';
import type { Pool } from './db.js';
import { badInput, notFound } from './errors.js';

/**
 * Partners are told when their contract changes: each partner may register one HTTPS webhook, and
 * every new version of its contract's API schema (a publish that changed it, a deprecation
 * approved) is POSTed to it, in order, signed with a secret only the partner and the registry
 * know. Delivery is at least once and durable: a webhook remembers the last contract version it
 * acknowledged (2xx), so a registry restart or a partner outage only delays the news; failures back
 * off exponentially, up to an hour.
 *
 * The URL is the partner's, so the registry must not be usable to reach the inside of its own
 * network: unless REGISTRY_WEBHOOK_ALLOW_PRIVATE (development and tests), only https, and the
 * connection is refused to any loopback, private, link-local or otherwise non-public address the
 * name resolves to at delivery time (the check is in the socket's own DNS lookup, so a name cannot
 * resolve to a public address when registered and a private one when called).
 */
export interface WebhookOptions {
  logger: Logger;
  allowPrivate: boolean;
  /** How often due deliveries are looked for. */
  intervalMs?: number;
  timeoutMs?: number;
}

interface WebhookRow {
  partner_id: string;
  contract: string;
  url: string;
  secret: string;
  last_version: string;
  failures: number;
  next_attempt_at: Date;
  last_error: string | null;
}

const MAX_BACKOFF_SECONDS = 3600;
const BATCH = 20;

/** Addresses a webhook may never reach, unless private addresses are allowed. */
const NOT_PUBLIC = (() => {
  const list = new net.BlockList();
  for (const [address, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['224.0.0.0', 3],
  ] as const)
    list.addSubnet(address, prefix, 'ipv4');
  for (const [address, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['::ffff:0:0', 96],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
  ] as const)
    list.addSubnet(address, prefix, 'ipv6');
  return list;
})();

export const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function createWebhooks(pool: Pool, options: WebhookOptions) {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 5000;

  function validUrl(raw: unknown): URL {
    if (typeof raw !== 'string' || raw.length > 2000) throw badInput('url', 'url is the address to POST changes to, at most 2,000 characters.');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw badInput('url', `url "${raw.slice(0, 100)}" is not an absolute URL.`);
    }
    const schemes = options.allowPrivate ? ['https:', 'http:'] : ['https:'];
    if (!schemes.includes(url.protocol)) throw badInput('url', `url must use ${schemes.join(' or ')}.`);
    if (url.username || url.password) throw badInput('url', 'url must not carry credentials: verify the signature header instead.');
    const host = url.hostname.replace(/^\[|\]$/g, ''); // an IPv6 literal comes in brackets
    if (!options.allowPrivate && net.isIP(host) && NOT_PUBLIC.check(host, net.isIPv6(host) ? 'ipv6' : 'ipv4')) {
      throw badInput('url', 'url must be a public address.');
    }
    return url;
  }

  /** The socket's DNS lookup, refusing every non-public address (see above). */
  const publicLookup: net.LookupFunction = (hostname, lookupOptions, callback) => {
    dns.lookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 4);
      const list = addresses as dns.LookupAddress[];
      const refused = list.find((a) => NOT_PUBLIC.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
      if (refused || list.length === 0) return callback(new Error(`${hostname} resolves to a non-public address`), '', 4);
      if ((lookupOptions as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };

  function post(url: URL, body: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: timeoutMs,
          ...(options.allowPrivate ? {} : { lookup: publicLookup }),
        },
        (response) => {
          response.resume(); // the answer's body is not read: the status says it all
          response.on('end', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  }

  async function deliver(row: WebhookRow): Promise<{ delivered: number; error?: string }> {
    const { rows: versions } = await pool.query<{ id: string; schema_version: string; changes: unknown; created_at: Date }>(
      'select id, schema_version, changes, created_at from contract_versions where contract = $1 and id > $2 order by id limit $3',
      [row.contract, row.last_version, BATCH],
    );
    if (versions.length === 0) return { delivered: 0 };
    const body = JSON.stringify({
      event: 'contract.changed',
      contract: row.contract,
      versions: versions.map((v) => ({ version: Number(v.id), schemaVersion: Number(v.schema_version), createdAt: v.created_at.toISOString(), changes: v.changes })),
    });
    try {
      const status = await post(new URL(row.url), body, {
        'x-analytica-event': 'contract.changed',
        'x-analytica-delivery': randomUUID(),
        'x-analytica-signature': signatureOf(row.secret, body),
      });
      if (status < 200 || status >= 300) return { delivered: 0, error: `answered ${status}` };
    } catch (error) {
      return { delivered: 0, error: (error as Error).message.slice(0, 300) };
    }
    await pool.query('update partner_webhooks set last_version = $2, failures = 0, last_error = null, next_attempt_at = now() where partner_id = $1', [
      row.partner_id,
      versions[versions.length - 1]!.id,
    ]);
    return { delivered: versions.length };
  }

  /**
   * One pass over the webhooks that are due. Each is claimed with a two-minute lease first (so that
   * another registry instance skips it, and no transaction stays open during the HTTP call), then
   * delivered, then given its outcome.
   */
  async function deliverDue(): Promise<number> {
    const { rows } = await pool.query<WebhookRow>(
      `update partner_webhooks set next_attempt_at = now() + interval '2 minutes'
        where partner_id in (
          select w.partner_id from partner_webhooks w
           where w.next_attempt_at <= now() and exists (select 1 from contract_versions v where v.contract = w.contract and v.id > w.last_version)
           order by w.next_attempt_at for update skip locked limit 50)
        returning *`,
    );
    let delivered = 0;
    for (const row of rows) {
      const outcome = await deliver(row);
      delivered += outcome.delivered;
      if (outcome.error) {
        const wait = Math.min(MAX_BACKOFF_SECONDS, 5 * 2 ** Math.min(row.failures, 10));
        await pool.query('update partner_webhooks set failures = failures + 1, last_error = $2, next_attempt_at = now() + make_interval(secs => $3) where partner_id = $1', [
          row.partner_id,
          outcome.error,
          wait,
        ]);
        logger.warn({ partnerId: row.partner_id, contract: row.contract, error: outcome.error, retryInSeconds: wait }, 'webhook delivery failed');
      }
    }
    return delivered;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    /** PUT /api/partner/webhook: the secret is shown this once. Later contract versions only are sent. */
    async register(partner: PartnerClaim, body: unknown) {
      const url = validUrl((body as { url?: unknown } | undefined)?.url);
      const secret = `whs_${randomBytes(32).toString('base64url')}`;
      const { rows } = await pool.query<{ last_version: string }>(
        `insert into partner_webhooks (partner_id, contract, url, secret, last_version)
         values ($1, $2, $3, $4, coalesce((select max(id) from contract_versions where contract = $2), 0))
         on conflict (partner_id) do update set contract = excluded.contract, url = excluded.url, secret = excluded.secret,
           last_version = excluded.last_version, failures = 0, last_error = null, next_attempt_at = now()
         returning last_version`,
        [partner.id, partner.contract, url.toString(), secret],
      );
      return { url: url.toString(), contract: partner.contract, secret, fromVersion: Number(rows[0]!.last_version) };
    },
    async get(partner: PartnerClaim) {
      const { rows } = await pool.query<WebhookRow>('select * from partner_webhooks where partner_id = $1', [partner.id]);
      const row = rows[0];
      if (!row) throw notFound('webhook', 'This partner has no webhook: PUT /api/partner/webhook with { "url": "https://..." }.');
      return {
        url: row.url,
        contract: row.contract,
        lastDeliveredVersion: Number(row.last_version),
        failures: row.failures,
        lastError: row.last_error,
        nextAttemptAt: row.next_attempt_at.toISOString(),
      };
    },
    async remove(partner: PartnerClaim) {
      const { rowCount } = await pool.query('delete from partner_webhooks where partner_id = $1', [partner.id]);
      if (!rowCount) throw notFound('webhook', 'This partner has no webhook.');
      return { removed: true };
    },
    deliverDue,
    start() {
      const tick = () => {
        running = deliverDue()
          .catch((error: unknown) => logger.warn({ err: error }, 'webhook deliveries could not run'))
          .finally(() => {
            if (timer) timer = setTimeout(tick, options.intervalMs ?? 5000);
          });
      };
      timer = setTimeout(tick, options.intervalMs ?? 5000);
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
export type Webhooks = ReturnType<typeof createWebhooks>;
