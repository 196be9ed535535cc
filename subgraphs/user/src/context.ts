import type { RevocationList } from '@analytica/auth';
import type { EntityManager } from '@analytica/postgres';
import type { SubgraphContext } from '@analytica/subgraph';
import type { RequestMeta } from './audit/audit.js';
import type { LoginLimits } from './limits.js';
import type { SessionRecord } from './sessions/session.entity.js';
import type { UserRecord } from './users/user.entity.js';

export interface UserContext extends SubgraphContext {
  em: EntityManager;
  revocations: RevocationList;
  limits: LoginLimits;
  settings: { refreshTokenTtlSeconds: number; emailVerificationTtlSeconds: number; passwordResetTtlSeconds: number; totpIssuer: string };
  issueAccessToken(user: UserRecord, session: SessionRecord): { accessToken: string; expiresAt: Date; enrolmentOnly: boolean };
}

/** Who is asking and from where, for the audit log. */
export const metaOf = (ctx: UserContext): RequestMeta => ({ ip: ctx.clientIp, actorId: ctx.user?.id ?? null, sessionId: ctx.user?.sessionId ?? null });
