import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

class CreateNotifications extends Migration {
  override async up() {
    // Who to write to: fed by user.registered.v1 (no service reads the user service's tables).
    this.addSql(`create table recipients (
      user_id text primary key,
      email text not null,
      display_name text not null,
      registered_at timestamptz not null,
      updated_at timestamptz not null
    )`);
    // Only opt-outs are stored: a user with no row gets every category.
    this.addSql(`create table preferences (
      user_id text not null,
      category text not null,
      subscribed boolean not null,
      updated_at timestamptz not null,
      primary key (user_id, category)
    )`);
    // One row per email request (its event id), claimed before the SMTP server is contacted.
    this.addSql(`create table sent_emails (
      event_id text primary key,
      user_id text not null,
      template text not null,
      recipient text null,
      state text not null check (state in ('SENDING', 'SENT', 'SUPPRESSED', 'UNCERTAIN')),
      message_id text null,
      detail text null,
      claimed_at timestamptz not null,
      finished_at timestamptz null
    )`);
    this.addSql(`create index sent_emails_open on sent_emails (claimed_at) where state in ('SENDING', 'UNCERTAIN')`);
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

export const migrations = [{ name: '0001-create-notifications', class: CreateNotifications }];
