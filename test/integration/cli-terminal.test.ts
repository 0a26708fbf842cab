// The read-only commands on a store: a missing store is an error that creates nothing (issue 18, item
// 14), and community text reaches the terminal without its escape sequences (item 11).
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { finishPendingWork } from '../../src/runner/pending.js';
import { terminalSafe } from '../../src/cli/terminal.js';
import { tempDir } from '../support/factories.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
let dir: string;
let config: string;

async function gleaner(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', '-c', config, ...args], {
      cwd: ROOT,
      env: { ...process.env, GLEANER_LOG_LEVEL: 'warn', REDIS_URL: '' },
      timeout: 120_000,
    });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

// Colours, clear screen, a window title (OSC), an 8-bit CSI, a bell, a carriage return that would
// overwrite the line, a backspace.
const NASTY = '\u001b[31mRED\u001b[0m \u001b[2J\u001b]0;owned-title\u0007 \u009b1mC1 \u0007bell\rOVERWRITE\u0008';
// eslint-disable-next-line no-control-regex -- what must not reach the terminal
const BAD = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('terminalSafe', () => {
  it('drops escape sequences and control characters, keeps the text, tabs and newlines', () => {
    expect(terminalSafe(NASTY)).toBe('RED  C1 bellOVERWRITE');
    expect(terminalSafe('a\tb\nc')).toBe('a\tb\nc');
    expect(terminalSafe('plain text, ünïcödé – ok')).toBe('plain text, ünïcödé – ok');
  });
});

describe('read-only commands', () => {
  beforeAll(async () => {
    dir = tempDir('gleaner-cli-terminal-');
    config = join(dir, 'gleaner.yaml');
    writeFileSync(config, '');
    const app = await openApp({ configObject: parseConfig(''), db: join(dir, 'store.db'), redisUrl: null });
    const sourceId = await ensureSource(app.db, `src${NASTY}`, 'slack', Date.UTC(2024, 2, 1));
    const at = Date.UTC(2024, 2, 5, 10);
    const messages = [0, 1, 2].map((i) => ({
      externalId: `m${i}`,
      channel: 'C1',
      channelName: `general${NASTY}`,
      author: { id: `U${i}`, name: `Mallory${NASTY}` },
      text: `The dashboard export crashes with an error every time since the upgrade, please fix it ${NASTY}`,
      sentAt: at + i * 3_600_000,
      threadId: `m${i}`,
    }));
    await runIngest(app.ctx, { sourceId, platform: 'slack', messages, normalizerVersion: 1 }, { followUp: false });
    await finishPendingWork(app.ctx);
    await app.close();
  }, 120_000);

  it('stats, items and clusters print the community text without escape sequences', async () => {
    const db = join(dir, 'store.db');
    const outs = new Map<string, string>();
    for (const args of [['stats'], ['items'], ['clusters', '--from', '2024-03-04', '--to', '2024-03-10'], ['stats', '--format', 'json'], ['items', '--format', 'json']]) {
      const r = await gleaner('--db', db, ...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
      expect(r.out, args.join(' ')).not.toMatch(BAD);
      expect(r.out, args.join(' ')).toContain('RED');
      if (!outs.has(args[0]!)) outs.set(args[0]!, r.out);
    }
    // The text itself was printed: the readable rest of it is there.
    expect(outs.get('items')).toContain('please fix it RED');
    expect(outs.get('clusters')).toContain('Mallory');
  }, 240_000);

  it('on a store that does not exist: says so, exits non-zero, creates nothing', async () => {
    const missing = join(dir, 'nonexistent-dir', 'x.db');
    for (const args of [['stats'], ['items'], ['clusters'], ['quarantine'], ['repair']]) {
      const r = await gleaner('--db', missing, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toContain(`no Gleaner store at ${missing}: nothing has been imported there`);
      expect(existsSync(join(dir, 'nonexistent-dir')), args.join(' ')).toBe(false);
    }
  }, 240_000);
});
