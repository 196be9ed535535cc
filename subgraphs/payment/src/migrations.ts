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

export const migrations = [{ name: '0001-create-payments', class: CreatePayments }];
