import { EntitySchema } from '@mikro-orm/core';

/**
 * A sign-in. Its refresh tokens form one family: each use of one retires it and hands out the
 * next, and presenting a retired one again means the family leaked, so the session ends.
 */
export class SessionRecord {
  id!: string;
  userId!: string;
  createdAt!: Date;
  revokedAt: Date | null = null;
  revokedReason: string | null = null;
  /** Signed in with a TOTP code (or enrolled during this session): an admin session needs it. */
  totpVerified = false;
  lastUsedAt: Date | null = null;
  ip: string | null = null;
}
export const SessionSchema = new EntitySchema<SessionRecord>({
  class: SessionRecord,
  tableName: 'sessions',
  properties: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', fieldName: 'user_id' },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    revokedAt: { type: 'Date', fieldName: 'revoked_at', nullable: true },
    revokedReason: { type: 'string', fieldName: 'revoked_reason', nullable: true },
    totpVerified: { type: 'boolean', fieldName: 'totp_verified' },
    lastUsedAt: { type: 'Date', fieldName: 'last_used_at', nullable: true },
    ip: { type: 'string', nullable: true },
  },
});

export class RefreshTokenRecord {
  id!: string;
  sessionId!: string;
  tokenHash!: string;
  createdAt!: Date;
  expiresAt!: Date;
  rotatedAt: Date | null = null;
}
export const RefreshTokenSchema = new EntitySchema<RefreshTokenRecord>({
  class: RefreshTokenRecord,
  tableName: 'refresh_tokens',
  properties: {
    id: { type: 'uuid', primary: true },
    sessionId: { type: 'uuid', fieldName: 'session_id' },
    tokenHash: { type: 'string', fieldName: 'token_hash', unique: true },
    createdAt: { type: 'Date', fieldName: 'created_at' },
    expiresAt: { type: 'Date', fieldName: 'expires_at' },
    rotatedAt: { type: 'Date', fieldName: 'rotated_at', nullable: true },
  },
});
