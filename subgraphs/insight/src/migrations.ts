import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

class CreateInsights extends Migration {
  override async up() {
    // The aggregate grain is one UTC day, not one month: a week crosses month boundaries
    // (2025-03-31 .. 2025-04-06), so only per-day totals add up exactly to both a month and a week.
    // It is still small: at most one row per user, day, category, currency and direction.
    // Income sits beside spending (flow), so that both totals of a report are exact; amounts are
    // positive minor units in either direction. user_id and category_id are the event's opaque ids.
    this.addSql(`create table spending (
      user_id text not null,
      day date not null,
      category_id text null,
      currency char(3) not null,
      flow text not null check (flow in ('INCOME', 'SPENDING')),
      total_minor bigint not null check (total_minor >= 0),
      count integer not null check (count > 0),
      constraint spending_key unique nulls not distinct (user_id, day, category_id, currency, flow)
    )`);

    // One report per user, period and start: generating it again refreshes it in place.
    this.addSql(`create table reports (
      id uuid primary key,
      user_id text not null,
      period text not null check (period in ('MONTHLY', 'WEEKLY')),
      starts_on date not null,
      created_at timestamptz not null,
      generated_at timestamptz not null,
      constraint reports_period unique (user_id, period, starts_on)
    )`);
    this.addSql(`create table report_lines (
      id bigserial primary key,
      report_id uuid not null references reports (id) on delete cascade,
      flow text not null check (flow in ('INCOME', 'SPENDING')),
      category_id text null,
      currency char(3) not null,
      total_minor bigint not null,
      count integer not null
    )`);
    this.addSql('create index report_lines_report on report_lines (report_id)');

    // report_id is null for insights that do not come from a report (the inference worker's, later).
    // subject makes re-deriving an insight update it, and keeps a dismissed one dismissed.
    this.addSql(`create table insights (
      id uuid primary key,
      user_id text not null,
      report_id uuid null references reports (id) on delete set null,
      kind text not null check (kind in ('SPENDING_SPIKE', 'SAVING_SUGGESTION', 'RISK_WARNING')),
      subject text not null,
      category_id text null,
      title text not null,
      body text not null,
      created_at timestamptz not null,
      dismissed_at timestamptz null,
      constraint insights_subject unique (user_id, subject)
    )`);
    this.addSql('create index insights_user_created on insights (user_id, created_at desc)');
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

/** Insights of the inference worker (issue 13): ANOMALY, one per unusual transaction (subject `anomaly:<transaction id>`). */
class AddAnomalyInsights extends Migration {
  override async up() {
    this.addSql(`alter table insights drop constraint insights_kind_check,
      add constraint insights_kind_check check (kind in ('SPENDING_SPIKE', 'SAVING_SUGGESTION', 'RISK_WARNING', 'ANOMALY'))`);
  }
}

/**
 * Insights that match the ledger (issue 13): what each transaction counted for, so that an edit or
 * a delete takes back exactly that (and a transfer or a split counts as the ledger does), and the
 * names of the user's categories as the events carried them, for titles.
 *
 * Transactions recorded before this migration have no row: an edit of one counts as the first news
 * of it (its new lines are added, nothing is taken back) and a delete takes back nothing, so the
 * totals of their days keep their old figures (only replaying the topics into a fresh schema fixes them).
 */
class AddLedgerTransactions extends Migration {
  override async up() {
    // version: the newest applied (1 = recorded; 0 = only a placeholder locked by the first event);
    // deleted: final, nothing of the transaction counts again; transfer: a leg of a transfer, which
    // counts for nothing whatever its later events say; contributions: the spending rows it added.
    this.addSql(`create table ledger_transactions (
      user_id text not null,
      transaction_id text not null,
      version integer not null check (version >= 0),
      deleted boolean not null,
      transfer boolean not null,
      contributions jsonb not null,
      constraint ledger_transactions_key primary key (user_id, transaction_id)
    )`);
    this.addSql(`create table category_names (
      user_id text not null,
      category_id text not null,
      name text not null,
      named_at timestamptz not null,
      constraint category_names_key primary key (user_id, category_id)
    )`);
  }
}

/**
 * Budget forecasts and the remaining insight kinds (issue 13): the user's budgets as budget's
 * `budget.set.v1` last gave them (limit, currency, period), and the figures each insight rests on.
 */
class AddBudgetForecasts extends Migration {
  override async up() {
    this.addSql(`alter table insights drop constraint insights_kind_check,
      add constraint insights_kind_check check (kind in ('SPENDING_SPIKE', 'SAVING_SUGGESTION', 'RISK_WARNING', 'ANOMALY', 'BUDGET_FORECAST', 'INVESTMENT_SUGGESTION'))`);
    // The figures an insight rests on (amounts in minor units with their currency, days), as JSON.
    this.addSql('alter table insights add column figures jsonb null');
    // set_at orders the events of one budget: the newest setting wins, a late older one changes nothing.
    this.addSql(`create table budgets (
      user_id text not null,
      budget_id text not null,
      category_id text not null,
      period text not null check (period in ('MONTHLY', 'WEEKLY')),
      starts_on date not null,
      limit_minor bigint not null check (limit_minor > 0),
      currency char(3) not null,
      set_at timestamptz not null,
      constraint budgets_key primary key (user_id, budget_id)
    )`);
    this.addSql('create index budgets_category on budgets (user_id, category_id, starts_on)');
  }
}

/** Weekly and monthly digests: one row per user and period once its email was asked for (in the same transaction). */
class AddDigests extends Migration {
  override async up() {
    this.addSql(`create table digests (
      user_id text not null,
      period text not null check (period in ('MONTHLY', 'WEEKLY')),
      starts_on date not null,
      report_id uuid null references reports (id) on delete set null,
      sent_at timestamptz not null,
      constraint digests_key primary key (user_id, period, starts_on)
    )`);
  }
}

export const migrations = [
  { name: '0001-create-insights', class: CreateInsights },
  { name: '0002-add-anomaly-insights', class: AddAnomalyInsights },
  { name: '0003-add-ledger-transactions', class: AddLedgerTransactions },
  { name: '0004-add-budget-forecasts', class: AddBudgetForecasts },
  { name: '0005-add-digests', class: AddDigests },
];
