// `gleaner eval feedback` end to end on a small mailing-list archive written here: the labelled
// archive imported into a temporary store and scored, the same figures when the store was filled by
// `gleaner import` and scored with --store, and a clear error when a labelled archive is missing.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../tagging/support.js';
import { tempDir } from '../support/factories.js';

interface Mail {
  id: string;
  from: string;
  subject: string;
  body: string;
  replyTo?: string;
}

const MAILS: Mail[] = [
  {
    id: 'crash-1',
    from: 'Ann User <ann@users.example.org>',
    subject: 'Exporter crashes with NullPointerException on empty project',
    body: 'Since upgrading to 2.4 the exporter crashes with a NullPointerException whenever the project has no modules.\nStack trace:\njava.lang.NullPointerException at org.example.Exporter.run(Exporter.java:42)\nThis is a regression, 2.3 worked fine.',
  },
  {
    id: 'crash-2',
    from: 'Max Maintainer <max@project.example.org>',
    subject: 'Re: Exporter crashes with NullPointerException on empty project',
    body: 'Thanks for the report, could you open a ticket with the full log?',
    replyTo: 'crash-1',
  },
  {
    id: 'crash-3',
    from: 'Bob Other <bob@corp.example.com>',
    subject: 'Re: Exporter crashes with NullPointerException on empty project',
    body: 'Same here, we hit this too on our CI since 2.4, the exporter crashes on every project without modules.',
    replyTo: 'crash-1',
  },
  {
    id: 'vote-1',
    from: 'Max Maintainer <max@project.example.org>',
    subject: '[VOTE] Release Example Exporter 2.5',
    body: 'Hi,\nI staged the release candidate for 2.5. The vote is open for 72 hours.\n[ ] +1 release it\n[ ] -1 do not release',
  },
  { id: 'vote-2', from: 'Eve Committer <eve@project.example.org>', subject: 'Re: [VOTE] Release Example Exporter 2.5', body: '+1', replyTo: 'vote-1' },
  {
    id: 'ask-1',
    from: 'Carl Newcomer <carl@mail.example.net>',
    subject: 'How do I configure the output folder?',
    body: 'Is it possible to write the export into a different folder than target/? I could not find an option for it in the documentation.',
  },
];

/** An mbox of the mails, a minute apart. */
function writeArchive(dir: string): string {
  const base = Date.UTC(2024, 2, 4, 9, 0, 0);
  const text = MAILS.map((m, i) => {
    const at = new Date(base + i * 60_000);
    const [wd, dd, mon, yyyy, hms] = at.toUTCString().split(' ');
    const headers = [
      `From ${m.from.replace(/.*<|>.*/g, '')} ${wd!.slice(0, 3)} ${mon} ${dd} ${hms} ${yyyy}`,
      `From: ${m.from}`,
      'To: users@lists.example.org',
      `Subject: ${m.subject}`,
      `Date: ${at.toUTCString()}`,
      `Message-ID: <${m.id}@example.org>`,
    ];
    if (m.replyTo) headers.push(`In-Reply-To: <${m.replyTo}@example.org>`, `References: <${m.replyTo}@example.org>`);
    return `${headers.join('\n')}\n\n${m.body}\n\n`;
  }).join('');
  const path = join(dir, 'users-list.mbox');
  writeFileSync(path, text);
  return path;
}

const LABELS = `archive,id,channel,feedback,kind,role,need,excerpt
users-list.mbox,crash-1@example.org,,yes,bug,reporter,exporter-npe-no-modules,Exporter crashes with NPE
users-list.mbox,crash-2@example.org,,no,none,answerer,,could you open a ticket
users-list.mbox,crash-3@example.org,,yes,bug,me-too,exporter-npe-no-modules,Same here
users-list.mbox,vote-1@example.org,,no,none,staff,,[VOTE] Release 2.5
users-list.mbox,vote-2@example.org,,no,none,staff,,+1
users-list.mbox,ask-1@example.org,,yes,question,reporter,output-folder,How do I configure the output folder
`;

function figures(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.trim().split('\n')) {
    const m = /^([a-z_.]+): (-?\d+(?:\.\d+)?)$/.exec(line);
    if (!m) throw new Error(`not a "name: value" line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('gleaner eval feedback', () => {
  it('imports the labelled archive, runs the pipeline and prints the figures; --store scores an imported store the same', async () => {
    const dir = tempDir('gleaner-eval-feedback-');
    const archive = writeArchive(dir);
    const labels = join(dir, 'users.labels.csv');
    writeFileSync(labels, LABELS);
    const env = { GLEANER_SHARED: join(dir, 'no-shared') };

    const run = await cli(dir, ['eval', 'feedback', '--labels', labels, '--archive', archive], env);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const f = figures(run.stdout);
    expect([...f.keys()].slice(0, 5)).toEqual(['feedback.precision', 'feedback.recall', 'clusters.purity', 'clusters.need_split', 'clusters.needs_split_share']);
    for (const k of ['feedback.precision', 'feedback.recall', 'clusters.purity', 'clusters.needs_split_share']) {
      expect(f.get(k)).toBeGreaterThanOrEqual(0);
      expect(f.get(k)).toBeLessThanOrEqual(1);
    }
    // Every label found its message, and a plain crash report with a stack trace reached a cluster.
    expect(f.get('feedback.labelled')).toBe(6);
    expect(f.get('feedback.labelled_feedback')).toBe(3);
    expect(f.get('feedback.labels_not_in_store')).toBe(0);
    expect(f.get('feedback.counted')).toBeGreaterThanOrEqual(1);
    expect(f.get('feedback.unlabelled_counted')).toBe(0);
    expect(f.get('clusters.need_split')).toBeGreaterThanOrEqual(1);

    const db = join(dir, 'store.db');
    const imported = await cli(dir, ['--db', db, 'import', archive], env);
    expect(imported.code).toBe(0);
    const onStore = await cli(dir, ['--db', db, 'eval', 'feedback', '--store', '--labels', labels], env);
    expect(onStore.code).toBe(0);
    expect(onStore.stdout).toBe(run.stdout);
  }, 180_000);

  it('says which labelled archive it cannot find', async () => {
    const dir = tempDir('gleaner-eval-feedback-');
    const labels = join(dir, 'l.labels.csv');
    writeFileSync(labels, LABELS);
    const run = await cli(dir, ['eval', 'feedback', '--labels', labels, '--archives-dir', dir], { GLEANER_SHARED: join(dir, 'no-shared') });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/archive users-list\.mbox/);
  }, 60_000);
});
