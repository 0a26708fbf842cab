// The commands: `gleaner clusters resolve`, `gleaner loop list|approve|send`, `gleaner digest --public`,
// `gleaner digest post|posts`, on the digest tests' store (a mail thread on a list, Slack messages without
// a thread the reply could name).
import { join } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { simpleParser } from 'mailparser';
import { registerDigestCommands } from '../../src/cli/digest-commands.js';
import { registerClusterCommands } from '../../src/cli/cluster-commands.js';
import { registerOutCommands } from '../../src/cli/out-commands.js';
import { appWith, configYaml, seed, startSmtp, TEAMS, type SeededClusters, type SmtpCapture } from '../digest/support.js';
import { tempDir } from '../support/factories.js';
import { resolveCluster } from '../../src/loop/drafts.js';

let smtp: SmtpCapture;
let dir = '';
let c: SeededClusters;

beforeAll(async () => {
  smtp = await startSmtp();
  dir = tempDir('gleaner-out-cli-');
  const yaml = configYaml(smtp.port, TEAMS.replace('filter: { kind: [bug, feature] }', 'filter: { kind: [bug, feature] }\n    public: true'));
  writeFileSync(join(dir, 'gleaner.yaml'), yaml);
  const app = await appWith(yaml, { dbPath: join(dir, 'gleaner.db') });
  c = await seed(app.db);
  await app.close();
});
afterAll(async () => {
  await smtp.close();
});

async function cli(args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    const program = new Command().exitOverride().option('-c, --config <file>').option('--db <url>');
    registerDigestCommands(program);
    registerClusterCommands(program);
    registerOutCommands(program);
    await program.parseAsync(['node', 'gleaner', '-c', join(dir, 'gleaner.yaml'), '--db', join(dir, 'gleaner.db'), ...args]);
  } finally {
    spy.mockRestore();
  }
  return out.join('\n');
}

describe('gleaner clusters resolve, loop, digest --public (CLI)', () => {
  it('resolve drafts a mail reply to the list thread, says why the Slack messages get none; approve --send sends it once', async () => {
    const r = await cli(['clusters', 'resolve', String(c.csv), '--ref', 'fixed in 4.2.1', '--url', 'https://example.org/4.2.1', '--by', 'carol']);
    expect(r).toContain(`cluster ${c.csv} resolved: 1 reply drafted`);
    expect(r).toMatch(/\(slack\): no reply: slack message id e\d+ does not name a channel and ts/);
    const list = await cli(['loop', 'list', '--cluster', String(c.csv)]);
    expect(list).toMatch(/#1 cluster \d+ mail draft/);
    expect(list).toContain('Thanks for reporting this: it is resolved (fixed in 4.2.1) — https://example.org/4.2.1.');
    expect(await cli(['loop', 'send'])).toBe('nothing to send');
    expect(smtp.messages).toHaveLength(0);
    const sent = await cli(['loop', 'approve', '--cluster', String(c.csv), '--send', '--by', 'carol']);
    expect(sent).toContain('#1 approved');
    expect(sent).toMatch(/#1 sent \(<loop\.1@gleaner\.example\.org>\)/);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.envelope.to).toEqual(['dev@lists.example.org']);
    const mail = await simpleParser(smtp.messages[0]!.raw);
    expect(mail.inReplyTo).toBe('<e1>');
    expect(await cli(['loop', 'send', '1'])).toContain('#1 was sent already');
    expect(smtp.messages).toHaveLength(1);
  });

  it('digest --public writes the public edition without names, emails or the customer org', async () => {
    const out = await cli(['digest', '--public', '--team', 'product', '--week', '2026-W48', '--out', join(dir, 'pub')]);
    const html = out.split('\n').find((l) => l.endsWith('.html'))!;
    expect(existsSync(html)).toBe(true);
    const body = readFileSync(html, 'utf8');
    expect(body).toContain('CSV export crashes on large reports');
    for (const w of ['Ada', 'Bob', 'Dee', 'Mallory', 'Acme Corp', 'Acme']) expect(body).not.toMatch(new RegExp(`\\b${w}\\b`));
    expect(body).not.toContain('<script>');
  });

  it('digest post without destinations says so; posts lists nothing', async () => {
    await cli(['digest', '--preview', '--team', 'product', '--week', '2026-W48', '--out', join(dir, 'prev')]);
    await cli(['digest', 'approve', '--team', 'product', '--week', '2026-W48', '--no-send']);
    expect(await cli(['digest', 'post', '--team', 'product', '--week', '2026-W48'])).toMatch(/its team has no teams\[\]\.post destinations/);
    expect(await cli(['digest', 'posts'])).toBe('no posts');
  });

  it('with loop.autoApprove the replies are approved and sent as they are drafted, once', async () => {
    const app = await appWith(configYaml(smtp.port, 'loop: { autoApprove: true }'), { dbPath: join(tempDir('gleaner-out-auto-'), 'gleaner.db') });
    try {
      const seeded = await seed(app.db);
      const before = smtp.messages.length;
      const d = await resolveCluster(app.ctx, seeded.docs, { by: 'carol', reference: 'the link is fixed' });
      expect(d.replies.map((r) => [r.platform, r.status, r.approvedBy])).toEqual([
        ['mail', 'sent', 'autoApprove'],
        ['mail', 'sent', 'autoApprove'],
      ]);
      expect(smtp.messages.length).toBe(before + 2);
      expect((await resolveCluster(app.ctx, seeded.docs, { by: 'carol', reference: 'the link is fixed' })).created).toBe(0);
      expect(smtp.messages.length).toBe(before + 2);
    } finally {
      await app.close();
    }
  });
});
