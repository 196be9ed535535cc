import { describe, expect, it } from 'vitest';
import { ConfigError, kafkaEnv, parseEnv, pem, port, postgresEnv, url } from './index.js';

describe('parseEnv', () => {
  it('applies defaults and coerces types', () => {
    const env = parseEnv({ PORT: port(4002), ...postgresEnv('budget'), ...kafkaEnv }, {});
    expect(env).toMatchObject({ PORT: 4002, DATABASE_SCHEMA: 'budget', KAFKA_BROKERS: ['127.0.0.1:9092'], DATABASE_STATEMENT_TIMEOUT_MS: 5000, DATABASE_LOCK_TIMEOUT_MS: 2000 });
    expect(parseEnv(postgresEnv('budget'), { DATABASE_STATEMENT_TIMEOUT_MS: '30000' }).DATABASE_STATEMENT_TIMEOUT_MS).toBe(30_000);
    // No "0 = no limit", nothing above ten minutes, nothing that is not a whole number.
    for (const bad of ['0', '600001', '1.5', 'soon']) expect(() => parseEnv(postgresEnv('budget'), { DATABASE_LOCK_TIMEOUT_MS: bad }), bad).toThrow(/DATABASE_LOCK_TIMEOUT_MS/);
    expect(parseEnv({ PORT: port(1) }, { PORT: '8080' }).PORT).toBe(8080);
    expect(parseEnv({ ...kafkaEnv }, { KAFKA_BROKERS: 'a:1, b:2' }).KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
  });

  it('names every bad variable and what is wrong with it', () => {
    let error: unknown;
    try {
      parseEnv({ PORT: port(1), DATABASE_URL: url(['postgres']), JWT_PRIVATE_KEY: pem }, { PORT: '99999', DATABASE_URL: 'mysql://x' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/PORT is "99999"/);
    expect(message).toMatch(/DATABASE_URL is "mysql:\/\/x": must be a URL starting with postgres:\/\//);
    expect(message).toMatch(/JWT_PRIVATE_KEY is missing/);
  });

  it('never prints secret values', () => {
    expect(() => parseEnv({ JWT_PRIVATE_KEY: pem }, { JWT_PRIVATE_KEY: 'hunter2' })).toThrow(/JWT_PRIVATE_KEY is "\*\*\*"/);
  });

  it('accepts PEM keys with escaped newlines, as env files carry them', () => {
    const env = parseEnv({ KEY: pem }, { KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----' });
    expect(env.KEY).toBe('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----');
  });
});
