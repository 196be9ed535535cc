import { describe, expect, it } from 'vitest';
import { ConfigError } from '@analytica/config';
import { originPolicy } from './cors.js';
import { DEV_CORS_ORIGINS, parseGatewayEnv as parse } from './environment.js';

// What every gateway needs besides what is tested here.
const parseGatewayEnv = (source: Record<string, string>) => parse({ SUBGRAPH_SIGNING_KEY: 'k'.repeat(32), ...source });

describe('GATEWAY_CORS_ORIGINS and GATEWAY_IDE', () => {
  it('defaults to the local dev origins and the IDE outside production, to neither in production', () => {
    const dev = parseGatewayEnv({});
    expect(dev.GATEWAY_CORS_ORIGINS).toEqual(['http://localhost:5173', 'http://127.0.0.1:5173']);
    expect(DEV_CORS_ORIGINS).toEqual(dev.GATEWAY_CORS_ORIGINS);
    expect(dev.GATEWAY_IDE).toBe(true);
    const production = parseGatewayEnv({ NODE_ENV: 'production' });
    expect(production.GATEWAY_CORS_ORIGINS).toEqual([]);
    expect(production.GATEWAY_IDE).toBe(false);
    expect(parseGatewayEnv({ NODE_ENV: 'production', GATEWAY_IDE: 'true' }).GATEWAY_IDE).toBe(true);
    expect(parseGatewayEnv({ GATEWAY_IDE: '0' }).GATEWAY_IDE).toBe(false);
  });

  it('takes a comma-separated list of origins, normalised as browsers send them', () => {
    const env = parseGatewayEnv({ GATEWAY_CORS_ORIGINS: ' https://App.Example.com , http://localhost:3000,https://app.example.com:443' });
    expect(env.GATEWAY_CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(parseGatewayEnv({ GATEWAY_CORS_ORIGINS: '' }).GATEWAY_CORS_ORIGINS).toEqual([]);
  });

  it.each(['https://app.example.com/', 'https://app.example.com/app', '*', 'https://*.example.com', 'app.example.com', 'ftp://files.example.com', 'null'])(
    'stops start-up on %j with a message naming GATEWAY_CORS_ORIGINS',
    (value) => {
      expect(() => parseGatewayEnv({ GATEWAY_CORS_ORIGINS: `http://localhost:5173,${value}` })).toThrow(ConfigError);
      expect(() => parseGatewayEnv({ GATEWAY_CORS_ORIGINS: `http://localhost:5173,${value}` })).toThrow(/GATEWAY_CORS_ORIGINS is ".*": .* is not an origin/);
    },
  );

  it('stops start-up on a GATEWAY_IDE that is not a boolean', () => {
    expect(() => parseGatewayEnv({ GATEWAY_IDE: 'yes' })).toThrow(/GATEWAY_IDE is "yes"/);
  });
});

describe('originPolicy', () => {
  const policy = originPolicy({ origins: ['https://app.example.com'], maxAgeSeconds: 600 });
  it('admits no Origin, a listed origin and the gateway’s own; refuses any other', () => {
    expect(policy.admits({ host: 'api.example.com' })).toBe(true);
    expect(policy.admits({ host: 'api.example.com', origin: 'https://app.example.com' })).toBe(true);
    expect(policy.admits({ host: '127.0.0.1:4000', origin: 'http://127.0.0.1:4000' })).toBe(true);
    expect(policy.admits({ host: 'api.example.com', origin: 'https://evil.example.com' })).toBe(false);
    expect(policy.admits({ host: 'api.example.com', origin: 'https://app.example.com.evil.example' })).toBe(false);
    expect(policy.admits({ host: 'api.example.com', origin: 'null' })).toBe(false);
    expect(policy.admits({ origin: 'https://evil.example.com' })).toBe(false);
  });
});
