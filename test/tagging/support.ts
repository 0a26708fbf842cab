// Shared by the tagging tests: a store filled from a generated mailing-list archive (one thread per
// message), with a controllable clock, and the CLI run from source.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { importFiles } from '../../src/runner/import.js';
import { QUEUE_NAMES } from '../../src/queue/port.js';
import { tempDir } from '../support/factories.js';

export interface Post {
  subject: string;
  body: string;
}

let seq = 0;

/** The date of an mbox From_ line: "Mon Jan  8 10:00:00 2024" (UTC). */
function asctime(d: Date): string {
  const [wd, , mon] = d.toUTCString().split(' ');
  return `${wd!.slice(0, 3)} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;
}

/** An mbox with one thread per post, a minute apart, each from its own author. */
export function writeMbox(dir: string, posts: readonly Post[], name = `list-${++seq}.mbox`): string {
  const path = join(dir, name);
  const base = Date.UTC(2024, 0, 8, 10, 0, 0) + seq * 3_600_000;
  const text = posts
    .map((p, i) => {
      const at = new Date(base + i * 60_000);
      const id = `${name}-${i}`;
      return `From user${i}@example.org ${asctime(at)}\nFrom: Member ${i} <user${i}@example.org>\nTo: dev@lists.example.org\nSubject: ${p.subject}\nDate: ${at.toUTCString()}\nMessage-ID: <${id}@example.org>\n\n${p.body}\n\n`;
    })
    .join('');
  writeFileSync(path, text);
  return path;
}

export const TAG_RULES = `tags:
  - tag: area:auth
    keywords: [login, sso, okta, "sign in"]
  - tag: area:export
    keywords: [pdf, csv, export]
`;

export interface TestApp {
  app: App;
  dir: string;
  clock: { now: number };
  importPosts(posts: readonly Post[]): Promise<void>;
}

export async function tagApp(configYaml = TAG_RULES): Promise<TestApp> {
  const dir = tempDir('gleaner-tagging-');
  const clock = { now: Date.UTC(2024, 1, 1) };
  const app = await openApp({ configObject: parseConfig(configYaml, {}), db: join(dir, 'gleaner.db'), redisUrl: null, now: () => clock.now });
  startWorkers(app, QUEUE_NAMES);
  return {
    app,
    dir,
    clock,
    async importPosts(posts) {
      await importFiles(app, [writeMbox(dir, posts)], {});
      await app.queue.idle({ timeoutMs: 60_000 });
    },
  };
}

const pexec = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');

/** Runs `tsx src/cli/run.ts ...args` (what `npx tsx` runs) in `cwd`; never throws on a failing exit. */
export async function cli(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await pexec(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'src', 'cli', 'run.ts'), ...args], {
      cwd,
      env: { ...process.env, GLEANER_LOG_LEVEL: 'warn', ...env },
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err: unknown) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export const POSTS: Post[] = [
  { subject: 'Login loop with Okta SSO', body: 'After upgrading to 3.2 the login page keeps redirecting back to Okta, we cannot sign in at all.' },
  { subject: 'Feature request: export to PDF', body: 'It would be great if reports could be exported to PDF, any plans?' },
  { subject: 'How do I rotate API keys?', body: 'Is it possible to rotate API keys without downtime? I could not find how.' },
  { subject: 'Docs: broken link', body: 'The link to the webhook guide on the quickstart page is a 404.' },
  { subject: 'the frobnicator glows purple', body: 'my frobnicator widget has been glowing purple all week' },
];
