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

export const migrations = [{ name: '0001-create-users', class: CreateUsers }];
