import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from './config';

describe('config', () => {
  it('defaults to ./data/nurture.db on port 3000', () => {
    const c = loadConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.databasePath).toBe(path.resolve('data/nurture.db'));
  });
  it('honours DATA_DIR and DATABASE_URL', () => {
    expect(loadConfig({ DATA_DIR: '/tmp/x' }).databasePath).toBe('/tmp/x/nurture.db');
    expect(loadConfig({ DATABASE_URL: 'sqlite:/tmp/y.db' }).databasePath).toBe('/tmp/y.db');
    expect(loadConfig({ DATABASE_URL: ':memory:' }).databasePath).toBe(':memory:');
  });
  it('stops on a bad value, naming the variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ SEED: 'lots' })).toThrow(/SEED/);
  });
});
