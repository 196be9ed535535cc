import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/core';
import { CONTRACT_NAME, PARTNER_LIMITS, PARTNER_SCOPES, type RevocationList } from '@analytica/auth';
import { badInput, conflict, notFound } from '@analytica/errors';
import type { EntityManager } from '@analytica/postgres';
import { isUuid } from '@analytica/subgraph/access';
import { audit, type RequestMeta } from '../audit/audit.js';
import { AuditAction } from '../audit/audit.entity.js';
import { UserRecord } from '../users/user.entity.js';
import { PartnerAppRecord, PartnerAppSecretRecord, PartnerConsentRecord, PartnerRecord } from './partner.entity.js';

/**
 * Partners, their apps and users' consents: commands and reads, no GraphQL. Every admin change is
 * one transaction with its audit entry; a change that stops tokens (suspending or deleting a
 * partner, deleting an app, revoking a consent) writes the revocation to Redis as its last step
 * before the commit, so that if Redis refuses, nothing is changed and the admin can try again.
 */

/** Marks a secret as ours in logs and secret scanners ("analytica partner secret"). */
export const CLIENT_SECRET_PREFIX = 'aps_';
/** How long a rotated-out secret may keep working while the partner rolls out the new one. */
export const MAX_OVERLAP_SECONDS = 30 * 86_400;
/** What a user's consent lets a partner's apps do: read the user's data through the consent contract. */
export const CONSENT_SCOPE = 'user:read';

/** 32 random bytes: nothing to guess, so SHA-256 (not a slow password hash) is enough to store. */
const newClientSecret = () => CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
export const hashClientSecret = (secret: string) => createHash('sha256').update(secret).digest('hex');

function checkName(raw: string, field: string, what: string): string {
  const name = raw.trim();
  if (name.length < 1 || name.length > 100) throw badInput(field, `Give the ${what} a name of 1 to 100 characters.`);
  return name;
}

function checkContract(raw: string, field: string): string {
  const contract = raw.trim();
  if (!CONTRACT_NAME.test(contract)) {
    throw badInput(field, 'Give a contract name of 2 to 63 lower-case letters, digits and dashes, starting with a letter (e.g. market-data).');
  }
  // The console contract holds the admin fields (schema/contracts.yaml): it is the admin console's, never a partner's.
  if (contract === 'console') throw badInput(field, "Give a partner contract such as market-data: console is the admin console's contract, never a partner's.");
  return contract;
}

function checkScopes(scopes: string[], field: string): string[] {
  const unique = [...new Set(scopes.map((scope) => scope.trim()))];
  const known = PARTNER_SCOPES as readonly string[];
  const unknown = unique.filter((scope) => !known.includes(scope));
  if (unique.length === 0 || unknown.length > 0) {
    throw badInput(field, `Give one or more of the scopes ${known.join(', ')}${unknown.length ? ` (not ${unknown.join(', ')})` : ''}.`);
  }
  // In a fixed order, so that tokens and the admin view list them the same way whatever was typed.
  return known.filter((scope) => unique.includes(scope));
}

function checkLimit(value: number, bounds: { min: number; max: number }, field: string, what: string): number {
  if (!Number.isInteger(value) || value < bounds.min || value > bounds.max) {
    throw badInput(field, `Give ${what} as a whole number from ${bounds.min} to ${bounds.max.toLocaleString('en')}.`);
  }
  return value;
}

/** A partner that is not deleted, locked for the change when `lock` (so concurrent changes queue). */
async function livePartner(em: EntityManager, id: string, field: string, lock = false): Promise<PartnerRecord> {
  const partner = isUuid(id) ? await em.findOne(PartnerRecord, { id, deletedAt: null }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  if (!partner) throw notFound('Partner', id, field);
  return partner;
}

async function liveApp(em: EntityManager, id: string, field: string, lock = false): Promise<PartnerAppRecord> {
  const app = isUuid(id) ? await em.findOne(PartnerAppRecord, { id, deletedAt: null }, lock ? { lockMode: LockMode.PESSIMISTIC_WRITE } : {}) : null;
  if (!app) throw notFound('Partner app', id, field);
  return app;
}

const nameTaken = (name: string) => conflict(`A partner named "${name}" exists already; choose another name.`);

// ---------------------------------------------------------------------------------------------
// Administration

/** Partners that are not deleted, by name. Reading them is an admin action too, and audited. */
export async function listPartners(em: EntityManager, meta: RequestMeta): Promise<PartnerRecord[]> {
  await audit(em, AuditAction.PARTNERS_LISTED, meta);
  return em.find(PartnerRecord, { deletedAt: null }, { orderBy: { name: 'asc', id: 'asc' } });
}

export function appsOfPartner(em: EntityManager, partnerId: string): Promise<PartnerAppRecord[]> {
  return em.find(PartnerAppRecord, { partnerId, deletedAt: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

export async function createPartner(em: EntityManager, input: { name: string; contract: string }, meta: RequestMeta): Promise<PartnerRecord> {
  const name = checkName(input.name, 'name', 'partner');
  const contract = checkContract(input.contract, 'contract');
  try {
    return await em.transactional(async (tx) => {
      // The unique index decides under concurrency; this check gives the usual case a clear answer.
      if (await tx.count(PartnerRecord, { name: { $ilike: name.replace(/[\\%_]/g, (c) => `\\${c}`) }, deletedAt: null })) throw nameTaken(name);
      const partner = tx.create(PartnerRecord, { id: randomUUID(), name, contract, status: 'ACTIVE', createdAt: new Date(), suspendedAt: null, deletedAt: null });
      await tx.flush();
      await audit(tx, AuditAction.PARTNER_CREATED, meta, { detail: { partnerId: partner.id, name, contract } });
      return partner;
    });
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw nameTaken(name);
    throw error;
  }
}

/** Refuses every token the partner's apps hold (their own and consent tokens) and every new one until reinstated. */
export async function suspendPartner(em: EntityManager, revocations: RevocationList, id: string, meta: RequestMeta): Promise<PartnerRecord> {
  return em.transactional(async (tx) => {
    const partner = await livePartner(tx, id, 'id', true);
    if (partner.status === 'SUSPENDED') return partner;
    partner.status = 'SUSPENDED';
    partner.suspendedAt = new Date();
    await tx.flush();
    await audit(tx, AuditAction.PARTNER_SUSPENDED, meta, { detail: { partnerId: partner.id, name: partner.name } });
    await revocations.revokePartner(partner.id);
    return partner;
  });
}

/** New tokens work again; those issued before the suspension stay refused (the revocation keeps its time). */
export async function reinstatePartner(em: EntityManager, id: string, meta: RequestMeta): Promise<PartnerRecord> {
  return em.transactional(async (tx) => {
    const partner = await livePartner(tx, id, 'id', true);
    if (partner.status === 'ACTIVE') return partner;
    partner.status = 'ACTIVE';
    partner.suspendedAt = null;
    await tx.flush();
    await audit(tx, AuditAction.PARTNER_REINSTATED, meta, { detail: { partnerId: partner.id, name: partner.name } });
    return partner;
  });
}

/**
 * Deletes the partner with its apps (their secrets expire now) and ends every consent users gave
 * it; every token it holds is refused at once. The rows stay for the audit trail; the name is free.
 */
export async function deletePartner(em: EntityManager, revocations: RevocationList, id: string, meta: RequestMeta): Promise<void> {
  await em.transactional(async (tx) => {
    const partner = await livePartner(tx, id, 'id', true);
    const now = new Date();
    partner.deletedAt = now;
    await tx.flush();
    const apps = await tx.find(PartnerAppRecord, { partnerId: partner.id, deletedAt: null }, { fields: ['id'] });
    const appIds = apps.map((app) => app.id);
    await tx.nativeUpdate(PartnerAppRecord, { id: { $in: appIds } }, { deletedAt: now });
    await expireSecrets(tx, appIds, now);
    const consents = await tx.nativeUpdate(PartnerConsentRecord, { partnerId: partner.id, revokedAt: null }, { revokedAt: now });
    await audit(tx, AuditAction.PARTNER_DELETED, meta, { detail: { partnerId: partner.id, name: partner.name, appIds, consentsRevoked: consents } });
    await revocations.revokePartner(partner.id);
  });
}

/** Every secret of these apps that still works stops working at `at` (or stays expired if earlier). */
function expireSecrets(em: EntityManager, appIds: string[], at: Date): Promise<number> {
  if (appIds.length === 0) return Promise.resolve(0);
  return em.nativeUpdate(PartnerAppSecretRecord, { appId: { $in: appIds }, $or: [{ expiresAt: null }, { expiresAt: { $gt: at } }] }, { expiresAt: at });
}

export interface NewPartnerApp {
  partnerId: string;
  name: string;
  scopes: string[];
  trustedDocumentsOnly: boolean;
  ratePerMinute: number;
  dailyQuota: number;
}

/** Creates the app (the OAuth2 client) and its first secret, which is returned this once and never stored in clear. */
export async function createPartnerApp(em: EntityManager, input: NewPartnerApp, meta: RequestMeta): Promise<{ app: PartnerAppRecord; clientSecret: string }> {
  const name = checkName(input.name, 'input.name', 'app');
  const scopes = checkScopes(input.scopes, 'input.scopes');
  const ratePerMinute = checkLimit(input.ratePerMinute, PARTNER_LIMITS.ratePerMinute, 'input.ratePerMinute', 'the requests per minute');
  const dailyQuota = checkLimit(input.dailyQuota, PARTNER_LIMITS.dailyQuota, 'input.dailyQuota', 'the requests per day');
  return em.transactional(async (tx) => {
    // Locked, so that a concurrent deletePartner waits for this one: no app is added to a deleted partner.
    const partner = await livePartner(tx, input.partnerId, 'input.partnerId', true);
    const now = new Date();
    const app = tx.create(PartnerAppRecord, {
      id: randomUUID(),
      partnerId: partner.id,
      name,
      scopes,
      trustedDocumentsOnly: input.trustedDocumentsOnly,
      ratePerMinute,
      dailyQuota,
      createdAt: now,
      deletedAt: null,
    });
    // The app row first: the unit of work does not order inserts by foreign key.
    await tx.flush();
    const clientSecret = newClientSecret();
    await tx.insert(PartnerAppSecretRecord, { id: randomUUID(), appId: app.id, secretHash: hashClientSecret(clientSecret), createdAt: now, expiresAt: null });
    await audit(tx, AuditAction.PARTNER_APP_CREATED, meta, {
      detail: { partnerId: partner.id, appId: app.id, name, scopes, trustedDocumentsOnly: input.trustedDocumentsOnly, ratePerMinute, dailyQuota },
    });
    return { app, clientSecret };
  });
}

/**
 * Gives the app a new secret (returned this once). The previous secrets keep working for
 * `overlapSeconds` at most, so the partner can deploy the new one without an outage; 0 ends them
 * at once (a leaked secret). An earlier secret that had longer left is cut to the same time.
 */
export async function rotatePartnerAppSecret(
  em: EntityManager,
  appId: string,
  overlapSeconds: number,
  meta: RequestMeta,
): Promise<{ app: PartnerAppRecord; clientSecret: string; previousSecretExpiresAt: Date | null }> {
  if (!Number.isInteger(overlapSeconds) || overlapSeconds < 0 || overlapSeconds > MAX_OVERLAP_SECONDS) {
    throw badInput('overlapSeconds', `Give overlapSeconds from 0 (the old secret stops now) to ${MAX_OVERLAP_SECONDS} (30 days).`);
  }
  return em.transactional(async (tx) => {
    // Locked, so that two rotations at once cannot both keep "their" previous secret current.
    const app = await liveApp(tx, appId, 'appId', true);
    const now = new Date();
    const previousExpiresAt = new Date(now.getTime() + overlapSeconds * 1000);
    // Before the insert: at most one current secret per app (a unique index) at every statement.
    const expired = await expireSecrets(tx, [app.id], previousExpiresAt);
    const clientSecret = newClientSecret();
    await tx.insert(PartnerAppSecretRecord, { id: randomUUID(), appId: app.id, secretHash: hashClientSecret(clientSecret), createdAt: now, expiresAt: null });
    const previousSecretExpiresAt = expired > 0 ? previousExpiresAt : null;
    await audit(tx, AuditAction.PARTNER_APP_SECRET_ROTATED, meta, {
      detail: { partnerId: app.partnerId, appId: app.id, overlapSeconds, previousSecretExpiresAt: previousSecretExpiresAt?.toISOString() ?? null },
    });
    return { app, clientSecret, previousSecretExpiresAt };
  });
}

/** Deletes the app: its secrets stop now and every token it holds is refused at once. */
export async function deletePartnerApp(em: EntityManager, revocations: RevocationList, appId: string, meta: RequestMeta): Promise<void> {
  await em.transactional(async (tx) => {
    const app = await liveApp(tx, appId, 'appId', true);
    const now = new Date();
    app.deletedAt = now;
    await tx.flush();
    await expireSecrets(tx, [app.id], now);
    await audit(tx, AuditAction.PARTNER_APP_DELETED, meta, { detail: { partnerId: app.partnerId, appId: app.id, name: app.name } });
    await revocations.revokeApp(app.id);
  });
}

// ---------------------------------------------------------------------------------------------
// Consents

export interface ConsentView extends PartnerConsentRecord {
  partnerName: string;
}

/** The user's active consents, with the partners' names. */
export async function consentsOf(em: EntityManager, userId: string): Promise<ConsentView[]> {
  const consents = await em.find(PartnerConsentRecord, { userId, revokedAt: null }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  if (consents.length === 0) return [];
  const partners = await em.find(PartnerRecord, { id: { $in: consents.map((c) => c.partnerId) } });
  const names = new Map(partners.map((p) => [p.id, p.name]));
  return consents.map((consent) => Object.assign(consent, { partnerName: names.get(consent.partnerId) ?? '' }));
}

/** Lets the partner's apps read the user's data; giving it again returns the consent already in force. */
export async function grantConsent(em: EntityManager, userId: string, partnerId: string, meta: RequestMeta): Promise<ConsentView> {
  const partner = await livePartner(em, partnerId, 'partnerId');
  if (partner.status !== 'ACTIVE') throw badInput('partnerId', `${partner.name} is suspended: consent cannot be given to it now.`);
  const existing = await em.findOne(PartnerConsentRecord, { userId, partnerId: partner.id, revokedAt: null });
  if (existing) return Object.assign(existing, { partnerName: partner.name });
  try {
    const consent = await em.transactional(async (tx) => {
      const created = tx.create(PartnerConsentRecord, { id: randomUUID(), userId, partnerId: partner.id, scopes: [CONSENT_SCOPE], createdAt: new Date(), revokedAt: null });
      await tx.flush();
      await audit(tx, AuditAction.PARTNER_CONSENT_GRANTED, meta, { subjectId: userId, detail: { partnerId: partner.id, consentId: created.id, scopes: created.scopes } });
      return created;
    });
    return Object.assign(consent, { partnerName: partner.name });
  } catch (error) {
    // The same user granted it twice at once: the other request's consent is the one in force.
    if (!(error instanceof UniqueConstraintViolationException)) throw error;
    const winner = await em.fork().findOneOrFail(PartnerConsentRecord, { userId, partnerId: partner.id, revokedAt: null });
    return Object.assign(winner, { partnerName: partner.name });
  }
}

/**
 * Ends a consent of the user's: no new tokens, and every token issued under it is refused at once
 * (its id is their session id). Another user's consent is NOT_FOUND; an ended one stays ended.
 */
export async function revokeConsent(em: EntityManager, revocations: RevocationList, userId: string, id: string, meta: RequestMeta): Promise<void> {
  await em.transactional(async (tx) => {
    const consent = isUuid(id) ? await tx.findOne(PartnerConsentRecord, { id, userId }, { lockMode: LockMode.PESSIMISTIC_WRITE }) : null;
    if (!consent) throw notFound('Partner consent', id, 'id');
    if (consent.revokedAt) return;
    consent.revokedAt = new Date();
    await tx.flush();
    await audit(tx, AuditAction.PARTNER_CONSENT_REVOKED, meta, { subjectId: userId, detail: { partnerId: consent.partnerId, consentId: consent.id } });
    await revocations.revokeSessions(userId, [consent.id]);
  });
}

// ---------------------------------------------------------------------------------------------
// The token endpoint's reads

/**
 * The app and its partner when the secret is one of the app's working secrets, null otherwise. The
 * presented secret's hash is compared with every working secret in constant time. (Client ids are
 * not secret in OAuth2; only the secret has to resist guessing and timing.)
 */
export async function authenticateClient(em: EntityManager, clientId: string, secret: string): Promise<{ app: PartnerAppRecord; partner: PartnerRecord } | null> {
  if (!isUuid(clientId) || secret.length > 256) return null;
  const app = await em.findOne(PartnerAppRecord, { id: clientId, deletedAt: null });
  if (!app) return null;
  const secrets = await em.find(PartnerAppSecretRecord, { appId: app.id, $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }] });
  const presented = Buffer.from(hashClientSecret(secret), 'hex');
  let matched = false;
  for (const stored of secrets) {
    const hash = Buffer.from(stored.secretHash, 'hex');
    // Every stored secret is compared, so the time taken does not say which one matched.
    if (hash.length === presented.length && timingSafeEqual(hash, presented)) matched = true;
  }
  if (!matched) return null;
  const partner = await em.findOne(PartnerRecord, { id: app.partnerId, deletedAt: null });
  return partner ? { app, partner } : null;
}

/**
 * The user's consent in force for this partner, when the user exists and is not disabled, and the
 * consent covers reading their data. Every other case is the same null, so nothing can be probed.
 */
export async function consentInForce(em: EntityManager, userId: string, partnerId: string): Promise<PartnerConsentRecord | null> {
  if (!isUuid(userId)) return null;
  const consent = await em.findOne(PartnerConsentRecord, { userId, partnerId, revokedAt: null });
  if (!consent?.scopes.includes(CONSENT_SCOPE)) return null;
  const user = await em.findOne(UserRecord, { id: userId, disabledAt: null }, { fields: ['id'] });
  return user ? consent : null;
}
