import { randomUUID } from 'node:crypto';
import { createTokenIssuer, createTokenVerifier, revocationListFor } from '@analytica/auth';
import { busFromEnv, OutboxMessageSchema, ProcessedEventSchema, startOutboxRelay, type EventBus } from '@analytica/events';
import { createLogger } from '@analytica/logger';
import { openDatabase, connectionFromEnv } from '@analytica/postgres';
import { createRedis, pingRedis, redisBudgetFromEnv, type Redis } from '@analytica/redis';
import { lifecycle } from '@analytica/service';
import { createSubgraphService } from '@analytica/subgraph';
import { AuditSchema } from './audit/audit.entity.js';
import type { UserEnv } from './environment.js';
import { createLoginLimits } from './limits.js';
import { registerKafkaMetrics } from './operations/kafka.js';
import { openMonitoring } from './operations/monitoring.js';
import { openOperations } from './operations/context.js';
import { zipkinTraces } from './operations/traces.js';
import { migrations } from './migrations.js';
import { createTokenEndpoint } from './partners/oauth.js';
import { partnerSchemas } from './partners/partner.entity.js';
import { buildUserSchema } from './schema.js';
import type { UserContext } from './context.js';
import { EmailChangeSchema, PasswordResetSchema } from './recovery/recovery.js';
import { RefreshTokenSchema, SessionSchema } from './sessions/session.entity.js';
import { EmailVerificationSchema, UserSchema } from './users/user.entity.js';
import { ensureAdmin } from './users/users.js';

export { parseUserEnv, userEnvShape, type UserEnv } from './environment.js';
export { registerUser } from './users/users.js';
export { buildUserSchema } from './schema.js';

export interface Dependencies {
  /** The embedded runner passes its local event bus; otherwise Kafka is used. */
  bus?: EventBus;
  /** Revocations and sign-in limits; made from REDIS_URL when not passed (and then closed on stop). */
  redis?: Redis;
}

/** Starts the user service: accounts, sessions, two-factor sign-in, the audit log and the JWKS every other service trusts. */
export async function startUserService(env: UserEnv, deps: Dependencies = {}) {
  const logger = createLogger('user', env.LOG_LEVEL);
  const resources = lifecycle(logger);
  const db = await resources.open(
    'postgres',
    () =>
      openDatabase({
        ...connectionFromEnv(env),
        entities: [
          UserSchema,
          SessionSchema,
          RefreshTokenSchema,
          EmailVerificationSchema,
          PasswordResetSchema,
          EmailChangeSchema,
          AuditSchema,
          ...partnerSchemas,
          OutboxMessageSchema,
          ProcessedEventSchema,
        ],
        migrations,
      }),
    (d) => d.close(),
  );
  const { ADMIN_EMAIL, ADMIN_PASSWORD } = env;
  if (ADMIN_EMAIL && ADMIN_PASSWORD) {
    await resources.run('administrator account', async () => {
      const outcome = await ensureAdmin(db.fork(), ADMIN_EMAIL, ADMIN_PASSWORD, env.EMAIL_VERIFICATION_TTL_SECONDS);
      logger.info({ email: ADMIN_EMAIL, outcome }, 'administrator account checked');
    });
  }
  const redis =
    deps.redis ??
    (await resources.open(
      'redis',
      () =>
        createRedis(env.REDIS_URL, {
          keyPrefix: env.REDIS_KEY_PREFIX,
          name: 'user',
          // Its token checks are on every request: the Redis budget (docs/ARCHITECTURE.md, "Dependency outages").
          budget: redisBudgetFromEnv(env),
          onError: (err) => logger.warn({ err }, 'redis connection error'),
          onCircuit: (change) => logger.warn(change.state === 'open' ? { err: change.cause } : { openForMs: change.openForMs }, `redis circuit ${change.state}`),
        }),
      (r) => r.quit().catch(() => r.disconnect()),
    ));
  // "Not revoked" verdicts kept a few seconds, dropped by every published revocation (packages/auth revocation-cache.ts).
  const revocations = await resources.open(
    'revocation list',
    () => revocationListFor(redis, env.AUTH_REVOCATION_CACHE_SECONDS * 1000, { ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS + 60 }),
    (r) => r.close(),
  );
  const limits = createLoginLimits(redis, {
    maxFailuresPerAccount: env.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
    windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
    lockoutSeconds: env.LOGIN_LOCKOUT_SECONDS,
    lockoutMaxSeconds: env.LOGIN_LOCKOUT_MAX_SECONDS,
    registrationsPerIpPerHour: env.REGISTRATIONS_PER_IP_PER_HOUR,
    passwordResetsPerEmailPerHour: env.PASSWORD_RESETS_PER_EMAIL_PER_HOUR,
    passwordResetsPerIpPerHour: env.PASSWORD_RESETS_PER_IP_PER_HOUR,
  });
  const bus =
    deps.bus ??
    (await resources.open(
      'kafka',
      () => busFromEnv(env, 'user', logger),
      (b) => b.close(),
    ));
  await resources.open(
    'outbox relay',
    () => startOutboxRelay({ db, bus, logger }),
    (r) => r.stop(),
  );
  // Alerts, Kafka lag and dead letters, gateways and usage for the admin console; nothing connects yet.
  const monitoring = await resources.open(
    'monitoring',
    () => openMonitoring(env, { kafka: bus.kind === 'kafka', logger }),
    (m) => m.kafka.close(),
  );
  // The log store's reader and the services' /ready; nothing connects yet, so a store that is down stops nothing.
  const operations = await resources.open(
    'operations',
    () => openOperations(env, logger),
    (o) => o.close(),
  );
  // Request traces from Zipkin (ZIPKIN_URL); nothing connects until an admin asks.
  const traces = zipkinTraces(env);
  const tokens = createTokenIssuer(env.JWT_PRIVATE_KEY, {
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    previousPublicKeys: env.JWT_PREVIOUS_PUBLIC_KEYS,
  });
  // The issuer trusts its own keys directly; every other service fetches them from /.well-known/jwks.json.
  const verifier = createTokenVerifier({
    jwksUrl: 'in-process',
    issuer: env.JWT_ISSUER,
    audience: env.JWT_AUDIENCE,
    fetchJwks: async () => tokens.jwks(),
    revocation: revocations,
    revocationGraceSeconds: env.AUTH_REVOCATION_GRACE_SECONDS,
  });
  const service = createSubgraphService<UserContext>({
    name: 'user',
    host: env.HOST,
    port: env.PORT,
    metricsPort: env.METRICS_PORT,
    metricsHost: env.METRICS_HOST,
    logger,
    schema: await resources.run('schema', buildUserSchema),
    verifier,
    exposeErrorDetails: env.NODE_ENV === 'development',
    access: env,
    readiness: { postgres: db.ping, redis: () => pingRedis(redis) },
    routes: (app) => {
      // Sign-in limits per address need the caller's address, which the gateway forwards.
      app.set('trust proxy', env.TRUST_PROXY);
      app.get('/.well-known/jwks.json', (_req, res) => {
        res.setHeader('cache-control', 'public, max-age=300');
        res.json(tokens.jwks());
      });
      // Partner apps' OAuth2 client credentials grant (docs/partners.md); the gateway forwards it here.
      app.post('/oauth/token', createTokenEndpoint({ db, issue: tokens.issue, ttlSeconds: env.ACCESS_TOKEN_TTL_SECONDS, revocations, limits, logger }));
    },
    context: (base) => ({
      ...base,
      em: db.fork(),
      revocations,
      limits,
      monitoring,
      operations,
      traces,
      settings: {
        refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
        emailVerificationTtlSeconds: env.EMAIL_VERIFICATION_TTL_SECONDS,
        passwordResetTtlSeconds: env.PASSWORD_RESET_TTL_SECONDS,
        totpIssuer: env.TOTP_ISSUER,
      },
      issueAccessToken: (user, session) => {
        // An administrator's session gets the ADMIN role's rights only once it passed a TOTP code.
        const enrolmentOnly = user.role === 'ADMIN' && !session.totpVerified;
        return {
          accessToken: tokens.issue({ id: user.id, role: user.role, sessionId: session.id, ...(enrolmentOnly ? { scope: 'totp-enrolment' as const } : {}) }, randomUUID()),
          expiresAt: new Date(Date.now() + env.ACCESS_TOKEN_TTL_SECONDS * 1000),
          enrolmentOnly,
        };
      },
    }),
    onStop: resources.closeAll,
  });
  // Consumer lag and dead letters on /metrics, for infra/prometheus/alerts.yml (read from Kafka at each scrape; none without Kafka).
  if (bus.kind === 'kafka') registerKafkaMetrics(service.registry, monitoring.kafka);
  const running = await resources.run('http server', () => service.start());
  return { ...running, db };
}
