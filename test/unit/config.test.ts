import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, redact } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { ENV_KNOBS, OTHER_ENV } from '../../src/config/env.js';
import { tempDir } from '../support/factories.js';
import { definitions } from '../../connectors/index.js';

describe('config', () => {
  it("the sample config in the repo loads, and each source passes its connector's own schema", () => {
    const env = {
      GLEANER_IMAP_PASSWORD: 's3cret',
      GLEANER_SLACK_TOKEN: 'xoxb-1',
      GLEANER_DISCORD_TOKEN: 'd',
      GLEANER_MATRIX_TOKEN: 'm',
      GLEANER_IRC_PASSWORD: 'i',
      GLEANER_DISCOURSE_API_KEY: 'k',
      GLEANER_GITHUB_TOKEN: 'g',
    };
    const { config } = loadConfig(join(import.meta.dirname, '..', '..', 'gleaner.example.yaml'), env);
    expect(config.sources[0]).toMatchObject({ name: 'lumen-users', platform: 'mail', password: 's3cret' });
    expect(config.sources.map((s) => s.platform)).toEqual(['mail', 'slack', 'discord', 'matrix', 'irc', 'discourse', 'github']);
    for (const s of config.sources) {
      const { name: _n, platform: _p, enabled: _e, public: _pub, ...own } = s;
      const r = definitions[s.platform]!.configSchema.safeParse(own);
      expect(r.success, `${s.name}: ${r.success ? '' : JSON.stringify(r.error.issues)}`).toBe(true);
    }
    expect(config.digest.top).toBe(10);
  });

  it('defaults when there is no file', () => {
    const c = parseConfig('');
    expect(c.queue).toEqual({ prefix: 'gleaner', attempts: 5, backoffMs: 1000, connectTimeoutMs: 10_000, pendingSweepMs: 60_000, concurrency: 1, ingestAhead: 1 });
    expect(c.store).toEqual({ poolSize: 10, sqliteCacheMb: 64, queryStats: false });
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
    // A platform that names an Object property is an unknown platform, not a crash (found by the config fuzz test).
    for (const platform of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(() => parseConfig(`sources:\n  - platform: ${platform}\n`), platform).toThrow(ConfigError);
    expect(() => parseConfig('{{not yaml')).toThrow(/not valid YAML/);
  });

  it('rejects unknown keys with their path and the key probably meant', () => {
    const err = (yaml: string): string => {
      try {
        parseConfig(yaml, {});
      } catch (e: unknown) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error(`loaded: ${yaml}`);
    };
    // A typo made a stray ./gleaner.db; a Slack source with `channels:` read every channel.
    expect(err('databse: /var/lib/gleaner/g.db\n')).toMatch(/^ {2}databse: unknown key; did you mean database\?$/m);
    expect(err('sources:\n  - name: s\n    platform: slack\n    token: xoxb-1\n    channels: [general]\n')).toMatch(
      /^ {2}sources\.0\.channels: unknown key; did you mean includeChannels or excludeChannels\?$/m,
    );
    expect(err('sources:\n  - name: i\n    platform: irc\n    networks: [{name: n, host: h, nick: x, channels: ["#a"], sasl: {acount: a, password: p}}]\n')).toMatch(
      /sources\.0\.networks\.0\.sasl\.acount: unknown key; did you mean account\?/,
    );
    const several = err('digest: {topp: 3}\nteams: [{name: a, filters: {}}]\nsegments: {customer: {wieght: 2}}\nsmtp: {host: h, pasword: x}\n');
    expect(several).toMatch(/^ {2}digest\.topp: unknown key; did you mean top\?$/m);
    expect(several).toMatch(/^ {2}teams\.0\.filters: unknown key; did you mean filter\?$/m);
    expect(several).toMatch(/^ {2}segments\.customer\.wieght: unknown key; did you mean weight\?$/m);
    expect(several).toMatch(/^ {2}smtp\.pasword: unknown key; did you mean password\?$/m);
    expect(err('zzz: 1\n')).toMatch(/zzz: unknown key; the keys here are timezone, database, redis/);
    // The keys every source has, and `*_FILE` secrets, are still accepted.
    const dir = tempDir();
    writeFileSync(join(dir, 'token'), 'xoxb-2');
    expect(parseConfig(`sources:\n  - name: s\n    platform: slack\n    enabled: false\n    token_FILE: ${join(dir, 'token')}\n    includeChannels: [general]\n`, {}).sources[0]).toMatchObject({
      token: 'xoxb-2',
      includeChannels: ['general'],
    });
  });

  it("the shipped configs load: examples/, docker/, the scenario config, the README's snippets", () => {
    // Every variable a file names is set; the ones that set config keys themselves are not.
    const knobs = new Set(ENV_KNOBS.map((k) => k.name));
    const env = new Proxy({}, { get: (_t, k) => (typeof k === 'string' && !knobs.has(k) ? `x-${k.toLowerCase()}` : undefined) }) as NodeJS.ProcessEnv;
    const root = join(import.meta.dirname, '..', '..');
    expect(loadConfig(join(root, 'examples', 'gleaner.yaml'), env).config.people.length).toBeGreaterThan(0);
    // The one docker-compose.yml mounts.
    expect(readFileSync(join(root, 'docker-compose.yml'), 'utf8')).toContain('./docker/gleaner.yaml:/config/gleaner.yaml:ro');
    expect(loadConfig(join(root, 'docker', 'gleaner.yaml'), {}).config.web.port).toBe(8080);
    const quarry = '/work/shared/data/scenarios/quarry/gleaner.yaml';
    if (existsSync(quarry)) expect(loadConfig(quarry, env).config.digest.timezone).toBe('UTC');
    const snippets = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ya?ml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(snippets.length).toBeGreaterThan(0);
    for (const [i, yaml] of snippets.entries()) expect(() => parseConfig(yaml, env, `README.md yaml block ${i + 1}`)).not.toThrow();
  });

  it('environment variables set their config keys, over the file (smtp ones only where the file has none)', () => {
    const yaml = 'database: ./file.db\nqueue: { prefix: file }\nsmtp: { host: mail.example, user: fileuser }\nlog: { level: warn }\n';
    const env = {
      GLEANER_DB: 'postgres://env/db',
      GLEANER_QUEUE_PREFIX: 'env',
      GLEANER_LOCK_DURATION_MS: '5000',
      GLEANER_DB_POOL: '3',
      GLEANER_QUERY_STATS: '1',
      GLEANER_LOG_LEVEL: 'silent',
      GLEANER_SMTP_USER: 'envuser',
      GLEANER_SMTP_PASSWORD: 'envpass',
      GLEANER_CONCURRENCY: '4',
    };
    const c = parseConfig(yaml, env);
    expect(c.database).toBe('postgres://env/db');
    expect(c.queue).toMatchObject({ prefix: 'env', lockDurationMs: 5000, attempts: 5, concurrency: 4 });
    expect(c.store).toEqual({ poolSize: 3, sqliteCacheMb: 64, queryStats: true });
    expect(c.log.level).toBe('silent');
    expect(c.smtp).toMatchObject({ user: 'fileuser', password: 'envpass' });
    // No smtp in the file: the SMTP variables make none.
    expect(parseConfig('', { GLEANER_SMTP_PASSWORD: 'x' }).smtp).toBeUndefined();
    expect(parseConfig('', {}).log.level).toBe('info');
    // A bad value is an error naming the variable; a bad level is the schema's error under log.level.
    expect(() => parseConfig('', { GLEANER_DB_POOL: 'ten' })).toThrow(/GLEANER_DB_POOL must be a whole number/);
    expect(() => parseConfig('', { GLEANER_LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('every environment variable the table names is in the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    for (const name of [...ENV_KNOBS.map((k) => k.name), ...Object.keys(OTHER_ENV)]) expect(readme, name).toContain(`\`${name}\``);
  });

  it('redacts secrets by key, at any depth', () => {
    const r = redact({ sources: [{ name: 'x', token: 'xoxb-1', nested: { password: 'p' } }], other: 'keep' });
    expect(JSON.stringify(r)).not.toMatch(/xoxb-1|"p"/);
    expect(r.other).toBe('keep');
  });
});
