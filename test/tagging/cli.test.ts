// `gleaner tag`, `gleaner items` and `gleaner train` run from source against a temporary SQLite store.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/factories.js';
import { POSTS, TAG_RULES, cli, writeMbox } from './support.js';

interface JsonItem {
  id: number;
  status: string;
  kind: string | null;
  kindConfidence: number | null;
  subject: string | null;
  tags: Array<{ tag: string; provenance: string; confidence: number | null; version: string | null; actor: string | null; state: string }>;
}

describe('tagging CLI', () => {
  const dir = tempDir('gleaner-tag-cli-');
  const db = join(dir, 'gleaner.db');
  const items = async (...args: string[]): Promise<JsonItem[]> => {
    const r = await cli(dir, ['--db', db, 'items', '--format', 'json', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as JsonItem[];
  };
  const bySubject = (list: JsonItem[], s: string): JsonItem => list.find((i) => i.subject === s)!;

  beforeAll(async () => {
    writeFileSync(join(dir, 'gleaner.yaml'), TAG_RULES); // ./gleaner.yaml is read from the working directory
    const r = await cli(dir, ['--db', db, 'import', writeMbox(dir, POSTS)]);
    expect(r.code, r.stderr).toBe(0);
  }, 180_000);

  let first: JsonItem[] = [];

  it('lists what waits for a decision with kinds, tags and confidences', async () => {
    const [list, text] = await Promise.all([items('--untagged'), cli(dir, ['--db', db, 'items', '--untagged', '--limit', '2'])]);
    first = list;
    expect(list.map((i) => i.subject).sort()).toEqual(POSTS.map((p) => p.subject).sort());
    for (const i of list) {
      expect(i.status).toBe('auto');
      const kind = i.tags.find((t) => t.tag.startsWith('kind:'))!;
      expect(kind).toMatchObject({ tag: `kind:${i.kind}`, provenance: 'model', version: expect.stringMatching(/^classifier-/) as unknown });
      expect(kind.confidence).toBeGreaterThan(0);
    }
    expect(text.code).toBe(0);
    expect(text.stdout.match(/^#\d+ /gm)).toHaveLength(2);
    expect(text.stdout).toMatch(/tags: kind:\w+ \(model \d\.\d\d classifier-/);
  }, 180_000);

  it('records human decisions with who, and filters by kind and tag', async () => {
    const purple = bySubject(first, 'the frobnicator glows purple');
    const oldKind = purple.kind!;
    const r = await cli(dir, ['--db', db, 'tag', String(purple.id), '--add', 'kind:praise', '--add', 'Area:Widgets', '--remove', `kind:${oldKind}`, '--as', 'ada']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('area:widgets (human: ada)');
    const docs = bySubject(first, 'Docs: broken link');
    const login = bySubject(first, 'Login loop with Okta SSO');
    expect((await cli(dir, ['--db', db, 'tag', String(docs.id), '--not-feedback'], { USER: 'bob' })).code).toBe(0);
    expect((await cli(dir, ['--db', db, 'tag', String(login.id), '--confirm', '--as', 'cleo'])).code).toBe(0);
    const [all, waiting, widgets, praise] = await Promise.all([items(), items('--untagged'), items('--tag', 'area:widgets'), items('--kind', 'praise')]);
    const after = bySubject(all, 'the frobnicator glows purple');
    expect(after).toMatchObject({ status: 'confirmed', kind: 'praise' });
    expect(after.tags).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tag: 'kind:praise', provenance: 'human', actor: 'ada', state: 'active' }),
        expect.objectContaining({ tag: 'area:widgets', provenance: 'human', actor: 'ada', state: 'active' }),
        expect.objectContaining({ tag: `kind:${oldKind}`, provenance: 'human', actor: 'ada', state: 'removed' }),
      ]),
    );
    expect(after.tags.some((t) => t.tag === `kind:${oldKind}` && t.state === 'active')).toBe(false);

    expect(waiting.map((i) => i.subject).sort()).toEqual(['Feature request: export to PDF', 'How do I rotate API keys?']);
    const notFeedback = bySubject(all, 'Docs: broken link');
    expect(notFeedback.status).toBe('not_feedback');
    expect(notFeedback.tags).toContainEqual(expect.objectContaining({ tag: 'not-feedback', provenance: 'human', actor: 'bob' }));
    expect(bySubject(all, 'Login loop with Okta SSO').tags).toContainEqual(expect.objectContaining({ tag: 'area:auth', provenance: 'human', actor: 'cleo' }));
    expect(widgets.map((i) => i.id)).toEqual([purple.id]);
    expect(praise.map((i) => i.id)).toEqual([purple.id]);
  }, 240_000);

  it('fails clearly on a missing item, nothing to do, or a bad tag', async () => {
    const [missing, nothing, bad] = await Promise.all([
      cli(dir, ['--db', db, 'tag', '99999', '--add', 'x']),
      cli(dir, ['--db', db, 'tag', '1']),
      cli(dir, ['--db', db, 'tag', '1', '--add', 'no spaces or "quotes"!']),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('feedback item 99999 not found');
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('nothing to do');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('not a valid tag');
  }, 180_000);

  it('train without the NLBSE CSV says so, prints before/after figures, and writes the model', async () => {
    const out = join(dir, 'model.json');
    const r = await cli(dir, ['--db', db, 'train', '--out', out], { GLEANER_SHARED: join(dir, 'no-shared') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("note: the NLBSE'24 training CSV is not here");
    expect(r.stdout).toMatch(/trained on 0 NLBSE issues, \d+ own examples, 3 human decisions \((?=[^)]*praise 1)(?=[^)]*none 1)(?=[^)]*bug 1)/);
    expect(r.stdout).toMatch(/^kind\.own\.macro_f1: \d\.\d{3} -> \d\.\d{3}$/m);
    expect(r.stdout).toMatch(/human decisions agreed with: \d\/3 -> 3\/3/);
    expect(existsSync(out)).toBe(true);
    const dry = await cli(dir, ['--db', db, 'train', '--dry-run', '--out', join(dir, 'never.json')], { GLEANER_SHARED: join(dir, 'no-shared') });
    expect(dry.stdout).toContain('dry run: nothing written');
    expect(existsSync(join(dir, 'never.json'))).toBe(false);
  }, 240_000);
});
