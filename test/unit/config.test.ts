import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, redact } from '../../src/config/index.js';
import { tempDir } from '../support/factories.js';
import { definitions } from '../../connectors/index.js';

describe('config', () => {
  it('the sample config in the repo loads, and each source passes its connector\'s own schema', () => {
    const env = { GLEANER_IMAP_PASSWORD: 's3cret', GLEANER_SLACK_TOKEN: 'xoxb-1', GLEANER_DISCORD_TOKEN: 'd', GLEANER_MATRIX_TOKEN: 'm', GLEANER_IRC_PASSWORD: 'i' };
    const { config } = loadConfig(join(import.meta.dirname, '..', '..', 'gleaner.example.yaml'), env);
    expect(config.sources[0]).toMatchObject({ name: 'lumen-users', platform: 'mail', password: 's3cret' });
    expect(config.sources.map((s) => s.platform)).toEqual(['mail', 'slack', 'discord', 'matrix', 'irc']);
    for (const s of config.sources) {
      const r = definitions[s.platform]!.configSchema.safeParse(s);
      expect(r.success, `${s.name}: ${r.success ? '' : JSON.stringify(r.error.issues)}`).toBe(true);
    }
    expect(config.digest.top).toBe(10);
  });

  it('defaults when there is no file', () => {
    const c = parseConfig('');
    expect(c.queue).toEqual({ prefix: 'gleaner', attempts: 5, backoffMs: 1000 });
    expect(c.sources).toEqual([]);
  });

  it('secrets come from env vars and *_FILE paths', () => {
    const dir = tempDir();
    const file = join(dir, 'token');
    writeFileSync(file, 'xoxb-from-file\n');
    const c = parseConfig(`sources:\n  - name: s\n    platform: slack\n    token_FILE: ${file}\n    appToken: \${APP}\n`, { APP: 'xapp-1' });
    expect(c.sources[0]).toMatchObject({ token: 'xoxb-from-file', appToken: 'xapp-1' });
    expect(readFileSync(file, 'utf8')).toContain('xoxb');
  });

  it('errors name the key and the missing variable', () => {
    expect(() => parseConfig('sources:\n  - name: s\n    platform: telegram\n')).toThrow(/sources\.0\.platform/);
    expect(() => parseConfig('redis: ${NOPE}', {})).toThrow(/NOPE is not set/);
    expect(() => parseConfig('sources: [ {name: a, platform: mail}, {name: a, platform: irc} ]')).toThrow(ConfigError);
    expect(() => parseConfig('{{not yaml')).toThrow(/not valid YAML/);
  });

  it('redacts secrets by key, at any depth', () => {
    const r = redact({ sources: [{ name: 'x', token: 'xoxb-1', nested: { password: 'p' } }], other: 'keep' });
    expect(JSON.stringify(r)).not.toMatch(/xoxb-1|"p"/);
    expect(r.other).toBe('keep');
  });
});
