import { ArrayType, EntitySchema } from '@mikro-orm/core';

export type PartnerStatus = 'ACTIVE' | 'SUSPENDED';

/**
 * A company whose apps call the API. `contract` names the filtered API schema (a contract in the
 * schema registry) that every token of its apps carries; the gateway serves that schema only.
 * Deleting keeps the row (the audit log and consents refer to it) and frees the name.
 */
export class PartnerRecord {
  id!: string;
  name!: string;
  contract!: string;
  status: PartnerStatus = 'ACTIVE';
  createdAt!: Date;
  suspendedAt: Date | null = null;
  deletedAt: Date | null = null;
}
export const PartnerSchema = new EntitySchema<PartnerRecord>({
  class: PartnerRecord,
  tableName: 'partners',
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string' },
    contract: { type: 'string' },
    status: { type: 'string' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    suspendedAt: { type: 'Date', fieldName: 'suspended_at', nullable: true },
    deletedAt: { type: 'Date', fieldName: 'deleted_at', nullable: true },
  },
});

/** One of a partner's apps: its id is the OAuth2 client id; scopes and quotas go into every token it gets. */
export class PartnerAppRecord {
  id!: string;
  partnerId!: string;
  name!: string;
  scopes: string[] = [];
  trustedDocumentsOnly = false;
  ratePerMinute!: number;
  dailyQuota!: number;
  createdAt!: Date;
  deletedAt: Date | null = null;
}
export const PartnerAppSchema = new EntitySchema<PartnerAppRecord>({
  class: PartnerAppRecord,
  tableName: 'partner_apps',
  properties: {
    id: { type: 'uuid', primary: true },
    partnerId: { type: 'uuid', fieldName: 'partner_id' },
    name: { type: 'string' },
    scopes: { type: new ArrayType(), columnType: 'text[]' },
    trustedDocumentsOnly: { type: 'boolean', fieldName: 'trusted_documents_only' },
    ratePerMinute: { type: 'integer', fieldName: 'rate_per_minute' },
    dailyQuota: { type: 'integer', fieldName: 'daily_quota' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    deletedAt: { type: 'Date', fieldName: 'deleted_at', nullable: true },
  },
});

/**
 * An app's client secret, as its SHA-256 only. `expiresAt` null is the current secret; a rotation
 * gives the previous one an expiry, so that the partner can roll the new one out meanwhile.
 */
export class PartnerAppSecretRecord {
  id!: string;
  appId!: string;
  secretHash!: string;
  createdAt!: Date;
  expiresAt: Date | null = null;
}
export const PartnerAppSecretSchema = new EntitySchema<PartnerAppSecretRecord>({
  class: PartnerAppSecretRecord,
  tableName: 'partner_app_secrets',
  properties: {
    id: { type: 'uuid', primary: true },
    appId: { type: 'uuid', fieldName: 'app_id' },
    secretHash: { type: 'string', fieldName: 'secret_hash', hidden: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    expiresAt: { type: 'Date', fieldName: 'expires_at', nullable: true },
  },
});

/**
 * A user's permission for a partner's apps to read their data. Its id is the session id of every
 * consent token issued under it, so revoking it revokes those tokens like a signed-out session.
 */
export class PartnerConsentRecord {
  id!: string;
  userId!: string;
  partnerId!: string;
  scopes: string[] = [];
  createdAt!: Date;
  revokedAt: Date | null = null;
}
export const PartnerConsentSchema = new EntitySchema<PartnerConsentRecord>({
  class: PartnerConsentRecord,
  tableName: 'partner_consents',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    partnerId: { type: 'uuid', fieldName: 'partner_id' },
    scopes: { type: new ArrayType(), columnType: 'text[]' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    revokedAt: { type: 'Date', fieldName: 'revoked_at', nullable: true },
  },
});

export const partnerSchemas = [PartnerSchema, PartnerAppSchema, PartnerAppSecretSchema, PartnerConsentSchema];
