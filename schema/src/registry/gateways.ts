import type { Pool } from './db.js';

/** The headers a gateway sends with each supergraph poll (gateway/src/registry-source.ts). */
export const GATEWAY_INSTANCE_HEADER = 'x-gateway-instance';
export const GATEWAY_SCHEMA_VERSION_HEADER = 'x-gateway-schema-version';

/** A gateway not heard from for this long is no longer listed (it stopped, or was replaced). */
const LISTED_FOR_HOURS = 24;
/** ... and forgotten after this long. */
const KEPT_FOR_DAYS = 7;

/**
 * Which gateways poll the registry and which schema version each serves: one row per instance,
 * updated at every poll (a poll every SUPERGRAPH_POLL_SECONDS per gateway: one small upsert).
 */
export function createGatewayLog(pool: Pool) {
  return {
    /** Records a poll. Names that are not a sane instance id are ignored, not refused: the poll itself must still be answered. */
    async seen(instanceId: unknown, schemaVersion: unknown) {
      if (typeof instanceId !== 'string' || !/^[\w.:@-]{1,128}$/.test(instanceId)) return false;
      const version = Number(schemaVersion);
      await pool.query(
        `insert into gateway_instances (instance_id, schema_version) values ($1, $2)
         on conflict (instance_id) do update set schema_version = excluded.schema_version, last_seen = now()`,
        [instanceId, Number.isSafeInteger(version) && version > 0 ? version : null],
      );
      return true;
    },
    /** Gateways heard from in the last day, the most recent first. */
    async list() {
      const { rows } = await pool.query<{ instance_id: string; schema_version: string | null; last_seen: Date }>(
        `select instance_id, schema_version, last_seen from gateway_instances
         where last_seen > now() - make_interval(hours => $1) order by last_seen desc, instance_id limit 500`,
        [LISTED_FOR_HOURS],
      );
      return {
        gateways: rows.map((r) => ({
          instanceId: r.instance_id,
          schemaVersion: r.schema_version === null ? null : Number(r.schema_version),
          lastSeenAt: r.last_seen.toISOString(),
        })),
      };
    },
    async prune() {
      const { rowCount } = await pool.query('delete from gateway_instances where last_seen < now() - make_interval(days => $1)', [KEPT_FOR_DAYS]);
      return rowCount ?? 0;
    },
  };
}
export type GatewayLog = ReturnType<typeof createGatewayLog>;
