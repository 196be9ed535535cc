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

export const migrations = [{ name: '0001-create-budget-tables', class: CreateBudgetTables }];
