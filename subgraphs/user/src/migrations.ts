import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

class CreateUsers extends Migration {
  override async up() {
    this.addSql(`create table users (
      id uuid primary key,
      email text not null unique,
      password_hash text not null,
      display_name text not null,
      role text not null check (role in ('USER', 'ADMIN')),
      home_currency char(3) not null,
      created_at timestamptz not null
    )`);
    this.addSql(`create table sessions (
      id uuid primary key,
      user_id uuid not null references users (id),
      created_at timestamptz not null,
      revoked_at timestamptz null
    )`);
    this.addSql('create index sessions_user on sessions (user_id)');
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

/**
 * Sessions become refresh-token families; users get verification, two-factor and disabling; and
 * the audit log is append-only: a trigger refuses UPDATE, DELETE and TRUNCATE whoever connects
 * (superusers included, who ignore privileges), and no role but the owner is granted more than
 * SELECT and INSERT on it.
 */
class Sessions extends Migration {
  override async up() {
    this.addSql(`alter table users
      add column email_verified_at timestamptz null,
      add column disabled_at timestamptz null,
      add column password_changed_at timestamptz null,
      add column totp_secret text null,
      add column totp_enabled_at timestamptz null,
      add column totp_last_step bigint null`);
    this.addSql(`alter table sessions
      add column totp_verified boolean not null default false,
      add column last_used_at timestamptz null,
      add column ip text null,
      add column revoked_reason text null`);
    this.addSql('create index sessions_active on sessions (user_id) where revoked_at is null');
    this.addSql(`create table refresh_tokens (
      id uuid primary key,
      session_id uuid not null references sessions (id),
      token_hash text not null unique,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      rotated_at timestamptz null
    )`);
    this.addSql('create index refresh_tokens_session on refresh_tokens (session_id)');
    this.addSql(`create table email_verifications (
      token_hash text primary key,
      user_id uuid not null references users (id),
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz null
    )`);
    this.addSql(`create table audit_log (
      id bigserial primary key,
      at timestamptz not null default now(),
      action text not null,
      actor_id uuid null,
      subject_id uuid null,
      email text null,
      ip text null,
      session_id uuid null,
      detail jsonb not null default '{}'
    )`);
    this.addSql('create index audit_log_subject on audit_log (subject_id, id)');
    this.addSql('create index audit_log_actor on audit_log (actor_id, id)');
    this.addSql('create index audit_log_action on audit_log (action, id)');
    this.addSql('create index audit_log_at on audit_log (at)');
    this.addSql(`create function audit_log_is_append_only() returns trigger language plpgsql as $$
      begin
        raise exception 'audit_log is append-only: % is not allowed', tg_op using errcode = 'insufficient_privilege';
      end
    $$`);
    this.addSql(`create trigger audit_log_no_change before update or delete on audit_log
      for each row execute function audit_log_is_append_only()`);
    this.addSql(`create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function audit_log_is_append_only()`);
    this.addSql('revoke update, delete, truncate on audit_log from public');
  }
}

/**
 * Partner access: partners, their apps (OAuth2 clients) and the apps' secrets (SHA-256 only), and
 * users' consents. The database keeps the invariants the code relies on: one live partner per
 * name, one current secret per app, one active consent per user and partner, and quotas in range.
 */
class Partners extends Migration {
  override async up() {
    this.addSql(`create table partners (
      id uuid primary key,
      name text not null,
      contract text not null,
      status text not null check (status in ('ACTIVE', 'SUSPENDED')),
      created_at timestamptz not null,
      suspended_at timestamptz null,
      deleted_at timestamptz null
    )`);
    this.addSql('create unique index partners_live_name on partners (lower(name)) where deleted_at is null');
    this.addSql(`create table partner_apps (
      id uuid primary key,
      partner_id uuid not null references partners (id),
      name text not null,
      scopes text[] not null,
      trusted_documents_only boolean not null default false,
      rate_per_minute integer not null check (rate_per_minute between 1 and 100000),
      daily_quota integer not null check (daily_quota between 1 and 100000000),
      created_at timestamptz not null,
      deleted_at timestamptz null
    )`);
    this.addSql('create index partner_apps_partner on partner_apps (partner_id)');
    this.addSql(`create table partner_app_secrets (
      id uuid primary key,
      app_id uuid not null references partner_apps (id),
      secret_hash text not null unique,
      created_at timestamptz not null,
      expires_at timestamptz null
    )`);
    this.addSql('create index partner_app_secrets_app on partner_app_secrets (app_id)');
    this.addSql('create unique index partner_app_secrets_current on partner_app_secrets (app_id) where expires_at is null');
    this.addSql(`create table partner_consents (
      id uuid primary key,
      user_id uuid not null references users (id),
      partner_id uuid not null references partners (id),
      scopes text[] not null,
      created_at timestamptz not null,
      revoked_at timestamptz null
    )`);
    this.addSql('create unique index partner_consents_active on partner_consents (user_id, partner_id) where revoked_at is null');
    this.addSql('create index partner_consents_partner on partner_consents (partner_id) where revoked_at is null');
  }
}

/**
 * `register` with an address that already has an account answers like a new registration (issue
 * 21): it makes a decoy, a user row of its own marked `decoy_of` the account it stands beside, so
 * that its tokens behave as a new account's do. The address stays unique among real accounts only.
 */
class RegistrationDecoys extends Migration {
  override async up() {
    this.addSql('alter table users add column decoy_of uuid null references users (id)');
    this.addSql('alter table users drop constraint users_email_key');
    this.addSql('create unique index users_email on users (email) where decoy_of is null');
    this.addSql('create index users_decoys on users (email, created_at) where decoy_of is not null');
  }
}

/**
 * Account recovery (issue 15). Password reset: single-use tokens sent by email, stored as SHA-256
 * hashes, valid 30 minutes; `used_at` is set when one is used (and on the user's other open tokens
 * at that moment). Email change: the new address waits in `email_changes` until the link sent to it
 * is followed.
 */
class AccountRecovery extends Migration {
  override async up() {
    this.addSql(`create table password_resets (
      token_hash text primary key,
      user_id uuid not null references users (id),
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz null
    )`);
    this.addSql('create index password_resets_user on password_resets (user_id) where used_at is null');
    this.addSql(`create table email_changes (
      token_hash text primary key,
      user_id uuid not null references users (id),
      new_email text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz null
    )`);
    this.addSql('create index email_changes_user on email_changes (user_id) where used_at is null');
  }
}

export const migrations = [
  { name: '0001-create-users', class: CreateUsers },
  { name: '0002-sessions-two-factor-audit', class: Sessions },
  { name: '0003-partners', class: Partners },
  { name: '0004-registration-decoys', class: RegistrationDecoys },
  { name: '0005-account-recovery', class: AccountRecovery },
];
