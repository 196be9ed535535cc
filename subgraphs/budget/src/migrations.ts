import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

/**
 * Every table carries user_id, every index starts with it, and rows of one table refer to rows of
 * another through (user_id, id): a user's data never points outside that user, so it can later be
 * split by user across databases (or distributed on user_id) without changing the services.
 * Splits, transfers, imports, rules and schedules are meant to arrive as new tables that refer to
 * transactions by (user_id, id), which is why transactions.category_id is nullable (a split
 * transaction carries its categories in its splits).
 */
class CreateBudgetTables extends Migration {
  override async up() {
    this.addSql(`create table accounts (
      id uuid primary key,
      user_id uuid not null,
      name text not null check (length(name) between 1 and 100),
      type text not null check (type in ('CHECKING', 'SAVINGS', 'CREDIT_CARD', 'CASH', 'INVESTMENT')),
      currency char(3) not null,
      opening_balance bigint not null default 0,
      created_at timestamptz not null default now(),
      archived_at timestamptz null,
      unique (user_id, id, currency)
    )`);
    this.addSql('create index accounts_user on accounts (user_id, created_at)');

    this.addSql(`create table categories (
      id uuid primary key,
      user_id uuid not null,
      name text not null check (length(name) between 1 and 100),
      group_name text not null,
      kind text not null check (kind in ('INCOME', 'EXPENSE')),
      created_at timestamptz not null default now(),
      archived_at timestamptz null,
      unique (user_id, name),
      unique (user_id, id)
    )`);

    // The foreign key through (user_id, account_id, currency) makes the database itself refuse a
    // transaction in another user's account or in a currency other than the account's.
    this.addSql(`create table transactions (
      id uuid primary key,
      user_id uuid not null,
      account_id uuid not null,
      category_id uuid null,
      amount bigint not null,
      currency char(3) not null,
      booked_at timestamptz not null,
      payee text not null check (length(payee) between 1 and 200),
      notes text null,
      version integer not null default 1,
      created_at timestamptz not null default now(),
      unique (user_id, id),
      foreign key (user_id, account_id, currency) references accounts (user_id, id, currency),
      foreign key (user_id, category_id) references categories (user_id, id)
    )`);
    this.addSql('create index transactions_user_booked on transactions (user_id, booked_at desc, id desc)');
    this.addSql('create index transactions_account on transactions (user_id, account_id, booked_at desc)');
    this.addSql('create index transactions_category on transactions (user_id, category_id, booked_at) where category_id is not null');

    this.addSql(`create table budgets (
      id uuid primary key,
      user_id uuid not null,
      category_id uuid not null,
      period text not null check (period in ('MONTHLY', 'WEEKLY')),
      amount bigint not null check (amount > 0),
      currency char(3) not null,
      starts_on date not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      unique (user_id, category_id, period, starts_on),
      foreign key (user_id, category_id) references categories (user_id, id),
      check ((period = 'MONTHLY' and extract(day from starts_on) = 1)
          or (period = 'WEEKLY' and extract(isodow from starts_on) = 1))
    )`);
    this.addSql('create index budgets_user on budgets (user_id, starts_on desc)');

    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

/**
 * The ledger's second half: tags, splits, transfers, schedules, rules, imports, exchange rates and
 * the overspending state of budgets. Every new table keeps the (user_id, id) discipline, except
 * exchange_rates, which is reference data shared by every user (like a currency list).
 */
class CreateLedgerTables extends Migration {
  override async up() {
    this.addSql('alter table accounts add unique (user_id, id)');
    this.addSql(`create table imports (
      id uuid primary key,
      user_id uuid not null,
      account_id uuid not null,
      format text not null check (format in ('CSV', 'OFX', 'QFX')),
      row_count integer not null,
      imported_count integer not null,
      duplicate_count integer not null,
      created_at timestamptz not null default now(),
      unique (user_id, id),
      foreign key (user_id, account_id) references accounts (user_id, id)
    )`);

    this.addSql(`create table schedules (
      id uuid primary key,
      user_id uuid not null,
      account_id uuid not null,
      category_id uuid null,
      amount bigint not null check (amount <> 0),
      currency char(3) not null,
      payee text not null check (length(payee) between 1 and 200),
      notes text null,
      tags text[] not null default '{}',
      frequency text not null check (frequency in ('WEEKLY', 'MONTHLY', 'YEARLY')),
      starts_on date not null,
      ends_on date null check (ends_on is null or ends_on >= starts_on),
      -- The next occurrence is the n-th after starts_on: months are counted from the start day, so
      -- a schedule on the 31st falls on the last day of shorter months and returns to the 31st.
      next_index integer not null default 0,
      next_on date null,
      auto_post boolean not null,
      version integer not null default 1,
      created_at timestamptz not null default now(),
      unique (user_id, id),
      foreign key (user_id, account_id, currency) references accounts (user_id, id, currency),
      foreign key (user_id, category_id) references categories (user_id, id)
    )`);
    this.addSql('create index schedules_user on schedules (user_id, next_on)');
    this.addSql('create index schedules_due on schedules (next_on) where auto_post and next_on is not null');

    // transfer_id pairs the two legs of a transfer; external_id is the bank's own id (OFX FITID),
    // unique per account so that a statement imported twice cannot book a line twice.
    this.addSql(`alter table transactions
      add column tags text[] not null default '{}',
      add column transfer_id uuid null,
      add column schedule_id uuid null,
      add column scheduled_on date null,
      add column import_id uuid null,
      add column external_id text null,
      add column updated_at timestamptz not null default now(),
      add foreign key (user_id, schedule_id) references schedules (user_id, id) on delete set null (schedule_id),
      add foreign key (user_id, import_id) references imports (user_id, id),
      add check (schedule_id is null or scheduled_on is not null)`);
    this.addSql('create index transactions_transfer on transactions (user_id, transfer_id) where transfer_id is not null');
    this.addSql('create unique index transactions_external on transactions (user_id, account_id, external_id) where external_id is not null');
    this.addSql('create unique index transactions_occurrence on transactions (user_id, schedule_id, scheduled_on) where schedule_id is not null');
    this.addSql('create index transactions_tags on transactions using gin (tags)');
    // Keyset pages sorted by amount; booking-time pages use transactions_user_booked.
    this.addSql('create index transactions_amount on transactions (user_id, amount, id)');

    // A split transaction carries no category itself; its parts do, and they sum to its amount
    // (checked by the service in the same database transaction that writes them).
    this.addSql(`create table transaction_splits (
      id uuid primary key,
      user_id uuid not null,
      transaction_id uuid not null,
      position smallint not null,
      category_id uuid null,
      amount bigint not null check (amount <> 0),
      notes text null,
      unique (user_id, transaction_id, position),
      -- Deferred: the ORM may write a transaction's parts before the transaction in one flush.
      foreign key (user_id, transaction_id) references transactions (user_id, id) on delete cascade deferrable initially deferred,
      foreign key (user_id, category_id) references categories (user_id, id)
    )`);
    this.addSql('create index transaction_splits_category on transaction_splits (user_id, category_id) where category_id is not null');

    // What budgets and reports count: one line per unsplit transaction, one per part of a split one.
    this.addSql(`create view transaction_lines as
      select t.user_id, t.id as transaction_id, t.account_id, coalesce(s.category_id, t.category_id) as category_id,
             coalesce(s.amount, t.amount) as amount, t.currency, t.booked_at, t.transfer_id
        from transactions t
        left join transaction_splits s on s.user_id = t.user_id and s.transaction_id = t.id`);

    this.addSql(`alter table budgets
      add column rollover text not null default 'NONE' check (rollover in ('NONE', 'LEFTOVER', 'LEFTOVER_AND_OVERSPENDING')),
      add column overspent boolean not null default false`);

    this.addSql(`create table rules (
      id uuid primary key,
      user_id uuid not null,
      position integer not null,
      match_field text not null check (match_field in ('PAYEE', 'NOTES', 'PAYEE_OR_NOTES')),
      match_operator text not null check (match_operator in ('CONTAINS', 'REGEX')),
      pattern text not null check (length(pattern) between 1 and 200),
      currency char(3) null,
      min_amount bigint null,
      max_amount bigint null,
      category_id uuid not null,
      created_at timestamptz not null default now(),
      unique (user_id, id),
      foreign key (user_id, category_id) references categories (user_id, id),
      check (min_amount is null or max_amount is null or min_amount <= max_amount),
      check ((currency is null) = (min_amount is null and max_amount is null))
    )`);
    this.addSql('create index rules_user on rules (user_id, position)');
    // One definition of "a rule matches", used for single transactions and for whole imports alike.
    // Regular expressions run in PostgreSQL's engine, which bounds their cost (statement_timeout,
    // "regular expression is too complex") instead of risking a catastrophic backtrack in Node.
    this.addSql(`create function rule_matches(r rules, payee_text text, notes_text text, amount_minor bigint, currency_code text) returns boolean
      language sql stable as $$
        select (case r.match_operator
                  when 'CONTAINS' then
                       (r.match_field <> 'NOTES' and strpos(lower(payee_text), lower(r.pattern)) > 0)
                    or (r.match_field <> 'PAYEE' and strpos(lower(coalesce(notes_text, '')), lower(r.pattern)) > 0)
                  else (r.match_field <> 'NOTES' and payee_text ~* r.pattern)
                    or (r.match_field <> 'PAYEE' and coalesce(notes_text, '') ~* r.pattern)
                end)
           and (r.currency is null or r.currency = currency_code)
           and (r.min_amount is null or amount_minor >= r.min_amount)
           and (r.max_amount is null or amount_minor <= r.max_amount)
      $$`);

    this.addSql(`create table exchange_rates (
      day date not null,
      base char(3) not null,
      quote char(3) not null,
      rate numeric(24, 12) not null check (rate > 0),
      primary key (base, quote, day),
      check (base <> quote)
    )`);
  }
}

/**
 * The inference worker's category suggestions (issue 13): the newest per transaction, what the
 * user did with it (labels for training), and each user's choice to apply confident ones at once.
 */
class CreateSuggestionTables extends Migration {
  override async up() {
    // One row per transaction: the newest suggestion (by transaction version). label is the model's
    // category name; category_id the user's category of that name (or an alias), when there is one.
    this.addSql(`create table category_suggestions (
      user_id uuid not null,
      transaction_id uuid not null,
      transaction_version integer not null,
      label text not null,
      category_id uuid null,
      confidence double precision not null check (confidence between 0 and 1),
      model text not null,
      model_version text not null,
      event_id text not null,
      suggested_at timestamptz not null,
      status text not null default 'PENDING' check (status in ('PENDING', 'ACCEPTED', 'CORRECTED', 'AUTO_APPLIED')),
      resolved_at timestamptz null,
      primary key (user_id, transaction_id),
      foreign key (user_id, transaction_id) references transactions (user_id, id) on delete cascade,
      foreign key (user_id, category_id) references categories (user_id, id)
    )`);
    // What the user said the category is, where the model had suggested one: ACCEPTED (the
    // suggestion, by acceptSuggestedCategory or by choosing the same category) or CORRECTED
    // (another one). The transaction's fields as they were then, for the next training run.
    this.addSql(`create table category_labels (
      id uuid primary key,
      user_id uuid not null,
      transaction_id uuid not null,
      source text not null check (source in ('ACCEPTED', 'CORRECTED')),
      category_id uuid not null,
      category_name text not null,
      suggested_label text not null,
      suggested_confidence double precision not null,
      model_version text not null,
      payee text not null,
      amount bigint not null,
      currency char(3) not null,
      booked_at timestamptz not null,
      created_at timestamptz not null default now(),
      foreign key (user_id, transaction_id) references transactions (user_id, id) on delete cascade,
      foreign key (user_id, category_id) references categories (user_id, id)
    )`);
    this.addSql('create index category_labels_user on category_labels (user_id, created_at)');
    this.addSql('create index category_labels_created on category_labels (created_at)');
    this.addSql(`create table suggestion_preferences (
      user_id uuid primary key,
      auto_apply boolean not null default false,
      min_confidence double precision not null default 0.9 check (min_confidence between 0.5 and 1),
      updated_at timestamptz not null default now()
    )`);
  }
}

/**
 * Statement files uploaded for import (issue 15): the file goes to object storage through a
 * short-lived upload URL, then is imported in the background with its progress kept here, so any
 * replica answers a client that polls. The upload token is stored as its SHA-256 only.
 */
class CreateStatementUploads extends Migration {
  override async up() {
    this.addSql(`create table statement_uploads (
      id uuid primary key,
      user_id uuid not null,
      account_id uuid not null,
      file_name text not null,
      byte_size bigint not null check (byte_size > 0),
      token_hash text not null,
      status text not null check (status in ('AWAITING_FILE', 'RECEIVED', 'IMPORTING', 'IMPORTED', 'FAILED')),
      object_key text not null,
      format text null check (format in ('CSV', 'OFX', 'QFX')),
      request jsonb null,
      phase text null,
      lines_done integer not null default 0,
      line_count integer null,
      import_id uuid null,
      row_count integer null,
      imported_count integer null,
      duplicate_count integer null,
      error_code text null,
      error_message text null,
      error_row integer null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      received_at timestamptz null,
      updated_at timestamptz not null,
      unique (user_id, id),
      foreign key (user_id, account_id) references accounts (user_id, id)
    )`);
    this.addSql('create index statement_uploads_user on statement_uploads (user_id, created_at desc)');
    this.addSql(`create index statement_uploads_importing on statement_uploads (updated_at) where status = 'IMPORTING'`);
  }
}

/**
 * Statement files are not kept longer than needed: an upload never booked expires (EXPIRED) after
 * STATEMENT_UPLOAD_RETENTION_HOURS and its file is deleted; file_deleted_at records that the file is
 * gone, so a deletion that failed (storage away) is tried again by the next sweep. Booked uploads
 * from before had their file deleted at once.
 */
class StatementUploadRetention extends Migration {
  override async up() {
    this.addSql('alter table statement_uploads add column file_deleted_at timestamptz null');
    this.addSql('alter table statement_uploads drop constraint statement_uploads_status_check');
    this.addSql(
      `alter table statement_uploads add constraint statement_uploads_status_check check (status in ('AWAITING_FILE', 'RECEIVED', 'IMPORTING', 'IMPORTED', 'FAILED', 'EXPIRED'))`,
    );
    this.addSql(`update statement_uploads set file_deleted_at = updated_at where status = 'IMPORTED' and not coalesce((request->>'dryRun')::boolean, false)`);
    this.addSql('create index statement_uploads_files_kept on statement_uploads (updated_at) where file_deleted_at is null');
  }
}

export const migrations = [
  { name: '0001-create-budget-tables', class: CreateBudgetTables },
  { name: '0002-create-ledger-tables', class: CreateLedgerTables },
  { name: '0003-create-suggestion-tables', class: CreateSuggestionTables },
  { name: '0004-create-statement-uploads', class: CreateStatementUploads },
  { name: '0005-statement-upload-retention', class: StatementUploadRetention },
];
