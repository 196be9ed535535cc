import type { RevocationList } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { RequestMeta } from './audit/audit.js';
import type { LoginLimits } from './limits.js';
import type { Monitoring } from './operations/monitoring.js';
import type { Operations } from './operations/context.js';
import type { TraceSource } from './operations/traces.js';
import type { SessionRecord } from './sessions/session.entity.js';
import type { UserRecord } from './users/user.entity.js';

export interface UserContext extends SubgraphContext {
  em: EntityManager;
  revocations: RevocationList;
  limits: LoginLimits;
  /** Alerts, Kafka lag and dead letters, gateways and usage for the admin console (operations/monitoring.ts). */
  monitoring: Monitoring;
  /** The central log store and the services' /ready for the admin console (operations/context.ts). */
  operations: Operations;
  /** One request's trace from Zipkin for the admin console (operations/traces.ts). */
  traces: TraceSource;
  settings: { refreshTokenTtlSeconds: number; emailVerificationTtlSeconds: number; passwordResetTtlSeconds: number; totpIssuer: string };
  issueAccessToken(user: UserRecord, session: SessionRecord): { accessToken: string; expiresAt: Date; enrolmentOnly: boolean };
}

/** Who is asking and from where, for the audit log. */
export const metaOf = (ctx: UserContext): RequestMeta => ({ ip: ctx.clientIp, actorId: ctx.user?.id ?? null, sessionId: ctx.user?.sessionId ?? null });
