import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

class CreatePayments extends Migration {
  override async up() {
    // Only a masked number and a keyed fingerprint are kept: the full IBAN is never stored.
    // verified_at / unlinked_at leave room for micro-deposit verification without a rewrite.
    this.addSql(`create table bank_accounts (
      id uuid primary key,
      user_id uuid not null,
      bank_name text not null,
      holder_name text not null,
      account_number text not null check (account_number like '•••• %'),
      account_fingerprint text not null,
      currency char(3) not null,
      status text not null check (status in ('PENDING_VERIFICATION', 'VERIFIED', 'UNLINKED')),
      created_at timestamptz not null,
      verified_at timestamptz null,
      unlinked_at timestamptz null
    )`);
    this.addSql('create index bank_accounts_user on bank_accounts (user_id, created_at)');
    // One live link per account and user. It is per user on purpose: a global constraint would tell
    // a second person that somebody else has linked this IBAN. Risk checks use the plain index.
    this.addSql(`create unique index bank_accounts_live_fingerprint on bank_accounts (user_id, account_fingerprint)
      where status <> 'UNLINKED'`);
    this.addSql('create index bank_accounts_fingerprint on bank_accounts (account_fingerprint)');

    // failure_reason and provider_reference are filled by the payments worker and the bank adapter.
    this.addSql(`create table payments (
      id uuid primary key,
      user_id uuid not null,
      bank_account_id uuid not null references bank_accounts (id),
      amount_minor bigint not null check (amount_minor > 0),
      currency char(3) not null,
      payee_name text not null,
      reference text not null,
      status text not null check (status in ('REQUIRES_ACTION', 'QUEUED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'CANCELED')),
      idempotency_key text not null,
      request_fingerprint text not null,
      failure_reason text null,
      provider_reference text null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      constraint payments_idempotency_key unique (user_id, idempotency_key)
    )`);
    this.addSql('create index payments_user_created on payments (user_id, created_at desc, id desc)');
    this.addSql('create index payments_bank_account on payments (bank_account_id, status)');

    this.addSql(`create table payment_status_history (
      id bigserial primary key,
      payment_id uuid not null references payments (id),
      status text not null,
      reason text null,
      at timestamptz not null
    )`);
    this.addSql('create index payment_status_history_payment on payment_status_history (payment_id, id)');
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

class BankLinksRiskAndLedger extends Migration {
  override async up() {
    // Accounts are linked through a consent at the provider; its ids are what a payment order names.
    this.addSql(`create table bank_connections (
      id uuid primary key,
      user_id uuid not null,
      bank_name text not null,
      consent_id text not null,
      created_at timestamptz not null,
      expires_at timestamptz not null
    )`);
    this.addSql('create index bank_connections_user on bank_connections (user_id, created_at)');
    this.addSql(`alter table bank_accounts
      add column connection_id uuid null references bank_connections (id),
      add column provider_account_id text null,
      add column verification_code_hash text null,
      add column verification_expires_at timestamptz null,
      add column verification_attempts int not null default 0,
      add column verification_codes_sent int not null default 0`);

    // A payment waiting in REQUIRES_ACTION holds the HMAC of the code that releases it.
    this.addSql(`alter table payments
      add column confirmation_code_hash text null,
      add column confirmation_expires_at timestamptz null,
      add column confirmation_attempts int not null default 0`);
    // The worker's reconciler looks for payments that have sat in QUEUED or PROCESSING too long.
    this.addSql(`create index payments_in_flight on payments (updated_at) where status in ('QUEUED', 'PROCESSING')`);
    // Risk checks sum a user's recent payments.
    this.addSql('create index payments_user_recent on payments (user_id, created_at) include (amount_minor, currency, status)');

    // Payees the user has paid (or confirmed a payment to): a large payment to anyone else needs a code.
    this.addSql(`create table payees (
      id uuid primary key,
      user_id uuid not null,
      name text not null,
      name_key text not null,
      created_at timestamptz not null,
      last_paid_at timestamptz not null,
      constraint payees_name unique (user_id, name_key)
    )`);

    // One entry per succeeded payment, written with the SUCCEEDED transition: the unique payment_id
    // is the database's own guarantee that a payment is booked at most once.
    this.addSql(`create table ledger_entries (
      id bigserial primary key,
      payment_id uuid not null unique references payments (id),
      user_id uuid not null,
      bank_account_id uuid not null references bank_accounts (id),
      amount_minor bigint not null check (amount_minor < 0),
      currency char(3) not null,
      bank_reference text not null,
      booked_at timestamptz not null
    )`);
    this.addSql('create index ledger_entries_user on ledger_entries (user_id, booked_at)');

    // Messages that reached payments.requested.v1.dlq, kept for the admin to read and replay.
    this.addSql(`create table dead_letters (
      id uuid primary key,
      topic text not null,
      source_topic text null,
      partition int not null,
      "offset" text not null,
      key text not null,
      value text not null,
      headers jsonb not null,
      reason text not null,
      event_id text null,
      dead_at timestamptz not null,
      replayed_at timestamptz null,
      constraint dead_letters_position unique (topic, partition, "offset")
    )`);
    this.addSql('create index dead_letters_open on dead_letters (dead_at) where replayed_at is null');
  }
}

/**
 * Dead letters are paged newest first by (dead_at, id) with millisecond cursors (issue 15):
 * dead_at holds whole milliseconds from now on (the intake cuts now() to them, a check constraint
 * holds every row to it), the rows written before are cut the same way, and both lists, the open
 * ones and all of them, have an index in that order.
 */
class DeadLetterPages extends Migration {
  override async up() {
    this.addSql(`update dead_letters set dead_at = date_trunc('milliseconds', dead_at) where dead_at <> date_trunc('milliseconds', dead_at)`);
    this.addSql(`alter table dead_letters add constraint dead_letters_dead_at_milliseconds check (dead_at = date_trunc('milliseconds', dead_at))`);
    this.addSql('drop index dead_letters_open');
    this.addSql('create index dead_letters_open on dead_letters (dead_at desc, id desc) where replayed_at is null');
    this.addSql('create index dead_letters_newest on dead_letters (dead_at desc, id desc)');
  }
}

export const migrations = [
  { name: '0001-create-payments', class: CreatePayments },
  { name: '0002-bank-links-risk-and-ledger', class: BankLinksRiskAndLedger },
  { name: '0003-dead-letter-pages', class: DeadLetterPages },
];
