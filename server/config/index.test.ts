import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configFields, configReference, loadConfig } from '.';

describe('loadConfig', () => {
  it('gives every field its documented default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      platformFeeBps: 1000,
      currency: 'USD',
      migrateOnStart: true,
    });
    expect(config.databaseUrl).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('parses and validates values', () => {
    const config = loadConfig({
      PORT: '0',
      MIGRATE_ON_START: 'false',
      PLATFORM_FEE_BPS: '250',
      REDIS_URL: 'redis://localhost:6379',
    });
    expect(config).toMatchObject({
      port: 0,
      migrateOnStart: false,
      platformFeeBps: 250,
      redisUrl: 'redis://localhost:6379',
    });
  });

  it('lists every bad value at once, by variable name', () => {
    try {
      loadConfig({ PORT: 'eighty', PLATFORM_FEE_BPS: '20000', CURRENCY: 'usd', DATABASE_URL: 'mysql://x' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const { problems } = err as ConfigError;
      expect(problems.map((p) => p.split('=')[0])).toEqual(['PORT', 'DATABASE_URL', 'CURRENCY', 'PLATFORM_FEE_BPS']);
    }
  });

  it('requires a shared JWT secret in the production shape', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x' })).toThrow(/JWT_SECRET is required/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', JWT_SECRET: 'short' })).toThrow(/at least 32/);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x', JWT_SECRET: 'x'.repeat(32) }).databaseUrl).toBe(
      'postgres://db/x',
    );
  });

  it('docs/configuration.md documents every field exactly as the code defines it', () => {
    const doc = readFileSync(path.join(__dirname, '../../docs/configuration.md'), 'utf8');
    expect(doc).toContain(configReference());
    for (const f of Object.values(configFields)) expect(doc).toContain(`\`${f.env}\``);
  });
});
