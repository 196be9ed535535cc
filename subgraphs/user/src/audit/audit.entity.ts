import { EntitySchema } from '@mikro-orm/core';

/** Everything security-relevant the user service records. Stored as the dotted value. */
export enum AuditAction {
  USER_REGISTERED = 'user.registered',
  REGISTRATION_RATE_LIMITED = 'registration.rate_limited',
  /** `register` with an address that has an account: answered as for a new one, the owner emailed. */
  REGISTRATION_EXISTING_EMAIL = 'registration.existing_email',
  EMAIL_VERIFIED = 'email.verified',
  LOGIN_SUCCEEDED = 'login.succeeded',
  LOGIN_FAILED = 'login.failed',
  LOGIN_RATE_LIMITED = 'login.rate_limited',
  ACCOUNT_LOCKED = 'login.locked',
  LOGIN_REFUSED_DISABLED = 'login.refused_disabled',
  REFRESH_TOKEN_REUSED = 'session.refresh_token_reused',
  LOGGED_OUT = 'session.logged_out',
  LOGGED_OUT_EVERYWHERE = 'session.logged_out_everywhere',
  PASSWORD_CHANGED = 'password.changed',
  PASSWORD_CHANGE_REFUSED = 'password.change_refused',
  /** `requestPasswordReset`, for a known address or not (subjectId then null); the answer is the same. */
  PASSWORD_RESET_REQUESTED = 'password.reset_requested',
  PASSWORD_RESET_RATE_LIMITED = 'password.reset_rate_limited',
  /** `resetPassword` with a valid token: the password set, every session ended. */
  PASSWORD_RESET = 'password.reset',
  /** `changeEmail`: a link sent to the new address (or, for a taken address, nothing sent; the same answer). */
  EMAIL_CHANGE_REQUESTED = 'email.change_requested',
  EMAIL_CHANGE_REFUSED = 'email.change_refused',
  EMAIL_CHANGED = 'email.changed',
  TOTP_ENABLED = 'totp.enabled',
  TOTP_DISABLED = 'totp.disabled',
  ROLE_CHANGED = 'admin.role_changed',
  USER_DISABLED = 'admin.user_disabled',
  USER_ENABLED = 'admin.user_enabled',
  SESSIONS_REVOKED = 'admin.sessions_revoked',
  USERS_LISTED = 'admin.users_listed',
  USER_VIEWED = 'admin.user_viewed',
  AUDIT_LOG_READ = 'admin.audit_log_read',
  PARTNERS_LISTED = 'admin.partners_listed',
  PARTNER_CREATED = 'admin.partner_created',
  PARTNER_SUSPENDED = 'admin.partner_suspended',
  PARTNER_REINSTATED = 'admin.partner_reinstated',
  PARTNER_DELETED = 'admin.partner_deleted',
  PARTNER_APP_CREATED = 'admin.partner_app_created',
  PARTNER_APP_SECRET_ROTATED = 'admin.partner_app_secret_rotated',
  PARTNER_APP_DELETED = 'admin.partner_app_deleted',
  PARTNER_CONSENT_GRANTED = 'partner.consent_granted',
  PARTNER_CONSENT_REVOKED = 'partner.consent_revoked',
  /** A consent token was handed to a partner app: someone else now reads the user's data. */
  PARTNER_CONSENT_TOKEN_ISSUED = 'partner.consent_token_issued',
  PARTNER_CLIENT_AUTH_FAILED = 'partner.client_auth_failed',
}

export class AuditRecord {
  id!: string;
  at!: Date;
  action!: AuditAction;
  actorId: string | null = null;
  subjectId: string | null = null;
  email: string | null = null;
  ip: string | null = null;
  sessionId: string | null = null;
  detail: Record<string, unknown> = {};
}
export const AuditSchema = new EntitySchema<AuditRecord>({
  class: AuditRecord,
  tableName: 'audit_log',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    at: { type: 'Date' },
    action: { type: 'string' },
    actorId: { type: 'uuid', fieldName: 'actor_id', nullable: true },
    subjectId: { type: 'uuid', fieldName: 'subject_id', nullable: true },
    email: { type: 'string', nullable: true },
    ip: { type: 'string', nullable: true },
    sessionId: { type: 'uuid', fieldName: 'session_id', nullable: true },
    detail: { type: 'json' },
  },
});
