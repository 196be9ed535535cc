import { randomUUID } from 'node:crypto';
import { createTokenIssuer, createTokenVerifier } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase } from '@analytica/postgres';
import { createSubgraphService } from '@analytica/subgraph';
import type { UserEnv } from './environment.js';
import { migrations } from './migrations.js';
import { buildUserSchema, type UserContext } from './schema.js';
import { ensureAdmin, SessionSchema, UserSchema } from './users.js';

export { parseUserEnv, userEnvShape, type UserEnv } from './environment.js';
export { registerUser } from './users.js';
export { buildUserSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
}

/** Starts the user service: accounts, sign-in and the JWKS that every other service trusts. */
export async function startUserService(env: UserEnv, deps: Dependencies = {}) {
  const logger = createLogger('user', env.LOG_LEVEL);
  const db = await openDatabase({
    url: env.DATABASE_URL,
    schema: env.DATABASE_SCHEMA,
    entities: [UserSchema, SessionSchema, OutboxMessageSchema, ProcessedEventSchema],
    migrations,
  });
  if (env.ADMIN_EMAIL && env.ADMIN_PASSWORD) {
    const outcome = await ensureAdmin(db.fork(), env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    logger.info({ email: env.ADMIN_EMAIL, outcome }, 'administrator account checked');
  }
  const bus = busFromEnv(env, 'user', logger, deps.bus);
  const relay = startOutboxRelay({ db, bus, logger });
  const tokens = createTokenIssuer(env.JWT_PRIVATE_KEY, {
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
  });
  // The issuer trusts its own key directly; every other service fetches it from /.well-known/jwks.json.
  const verifier = createTokenVerifier({
    jwksUrl: 'in-process',
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    fetchJwks: async () => tokens.jwks(),
  });
  const service = createSubgraphService<UserContext>({
    name: 'user',
    host: env.HOST,
    port: env.PORT,
    logger,
    schema: await buildUserSchema(),
    verifier,
    exposeErrorDetails: env.NODE_ENV === 'development',
    readiness: { postgres: db.ping },
    routes: (app) => {
      app.get('/.well-known/jwks.json', (_req, res) => {
        res.setHeader('cache-control', 'public, max-age=300');
        res.json(tokens.jwks());
      });
    },
    context: (base) => ({
      ...base,
      em: db.fork(),
      issueAccessToken: (user, session) => ({
        accessToken: tokens.issue({ id: user.id, role: user.role, sessionId: session.id }, randomUUID()),
        expiresAt: new Date(Date.now() + env.ACCESS_TOKEN_TTL_SECONDS * 1000),
      }),
    }),
    onStop: async () => {
      await relay.stop();
      if (!deps.bus) await bus.close();
      await db.close();
    },
  });
  const running = await service.start();
  return { ...running, db };
}
