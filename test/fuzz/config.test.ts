// The config loader over fuzzed YAML: any text either loads or fails with a ConfigError that says
// what is wrong; never another exception, never a hang.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { FUZZ_RUNS } from './support.js';

const hostile = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '~', '${REDIS_URL}', '${}', '*anchor', '&a [*a]', '!!binary AAAA', '\u0000', 'env:NOPE', 'file:/nonexistent'));
const sourceLike = fc.record(
  {
    name: fc.oneof(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/), hostile),
    platform: fc.oneof(fc.constantFrom('slack', 'discord', 'matrix', 'irc', 'mail'), hostile),
    token: fc.option(hostile, { nil: undefined }),
    channels: fc.option(fc.array(hostile, { maxLength: 3 }), { nil: undefined }),
  },
  { requiredKeys: [] },
);
const configLike = fc.record(
  {
    database: fc.option(hostile, { nil: undefined }),
    redis: fc.option(hostile, { nil: undefined }),
    queue: fc.option(fc.record({ prefix: hostile, attempts: fc.oneof(fc.integer(), hostile), backoffMs: fc.oneof(fc.integer(), hostile) }, { requiredKeys: [] }), { nil: undefined }),
    sources: fc.option(fc.oneof(fc.array(sourceLike, { maxLength: 3 }), fc.jsonValue()), { nil: undefined }),
    tags: fc.option(fc.oneof(fc.array(fc.record({ name: hostile, patterns: fc.array(hostile, { maxLength: 3 }) }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue()), { nil: undefined }),
    digest: fc.option(fc.jsonValue(), { nil: undefined }),
    smtp: fc.option(fc.jsonValue(), { nil: undefined }),
  },
  { requiredKeys: [] },
);
const text = fc.oneof(
  { arbitrary: configLike.map((c) => stringify(c)), weight: 3 },
  { arbitrary: fc.jsonValue().map((v) => stringify(v)), weight: 1 },
  { arbitrary: fc.string({ maxLength: 200 }), weight: 1 },
  { arbitrary: fc.array(fc.constantFrom('a:', '  - b', ': :', '- [', '{', 'key: "unterminated', '\t', '? x', '<<: *x'), { maxLength: 8 }).map((l) => l.join('\n')), weight: 1 },
);

describe('config loader', () => {
  it('loads or fails with a ConfigError', () => {
    fc.assert(
      fc.property(text, (t) => {
        try {
          parseConfig(t, { REDIS_URL: 'redis://127.0.0.1:6379' }, 'fuzz.yaml');
        } catch (err: unknown) {
          expect(err, `not a ConfigError: ${String(err)}`).toBeInstanceOf(ConfigError);
          expect((err as Error).message).toMatch(/\S/);
        }
      }),
      { numRuns: FUZZ_RUNS * 2 },
    );
  });
});
