import { Migration } from '@analytica/postgres';
import { eventTablesSql } from '@analytica/events';

class CreateInference extends Migration {
  override async up() {
    // What the anomaly model knows of a user: counts by hour, amounts per category and payee
    // (models/features.ts, Profile). Changed in the same transaction as the events it leads to.
    this.addSql(`create table profiles (
      user_id text primary key,
      profile jsonb not null,
      updated_at timestamptz not null default now()
    )`);
    for (const sql of eventTablesSql) this.addSql(sql);
  }
}

export const migrations = [{ name: '0001-create-inference', class: CreateInference }];
