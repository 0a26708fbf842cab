// The weekly digest end to end against a real SMTP server on loopback: editions per team, curation,
// what the email carries, escaping, exactly-once sending, retries and reporting, autoApprove, the CLI.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import type { App } from '../../src/app.js';
import { teamByName } from '../../src/digest/edition.js';
import type { EditionJson } from '../../src/model/digest.js';
import { approveEdition, prepareEdition, prepareEditions, runWeeklyDigest, sendDue, setEditionCuration } from '../../src/digest/workflow.js';
import { editionMessageId, sendEdition, sendWithRetry } from '../../src/digest/send.js';
import { claimSend, getEdition, listEditions, resolveUnknown } from '../../src/store/digests.js';
import { registerDigestCommands } from '../../src/cli/digest-commands.js';
import { tempDir } from '../support/factories.js';
import { appWith, configYaml, HOSTILE_TITLE, NOW, seed, startSmtp, TEAMS, WEEK, type SeededClusters, type SmtpCapture } from './support.js';

let smtp: SmtpCapture;
const apps: App[] = [];

beforeAll(async () => {
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.close();
});
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
  smtp.messages.length = 0;
  smtp.refuse(0);
});

async function seeded(extra = TEAMS, opts: { dbPath?: string; now?: () => number } = {}): Promise<{ app: App; c: SeededClusters }> {
  const app = await appWith(configYaml(smtp.port, extra), opts);
  apps.push(app);
  const c = await seed(app.db);
  return { app, c };
}

const ids = (e: { json: string }) => (JSON.parse(e.json) as EditionJson).clusters.map((c) => c.id);

describe('editions', () => {
  it('builds one edition per team with its filter, and the sections from the trends', async () => {
    const { app, c } = await seeded();
    const [product, docs, helpDesk] = await prepareEditions(app.ctx, WEEK);
    expect(product!.team).toBe('product');
    expect(ids(product!).sort()).toEqual([`cluster-${c.csv}`, `cluster-${c.dark}`, `cluster-${c.login}`, `cluster-${c.sso}`].sort());
    expect(ids(docs!)).toEqual([]);
    expect(ids(helpDesk!).sort()).toEqual([`cluster-${c.csv}`, `cluster-${c.dark}`].sort());
    const pj = JSON.parse(product!.json) as EditionJson;
    const byTrend = Object.fromEntries(pj.clusters.map((x) => [x.id, x.trend]));
    expect(byTrend[`cluster-${c.dark}`]).toBe('new');
    expect(byTrend[`cluster-${c.sso}`]).toBe('resurfaced');
    expect(pj.edition.sections.new.map((s) => s.id)).toContain(`cluster-${c.dark}`);
    expect(pj.edition.sections.resurfaced.map((s) => s.id)).toEqual([`cluster-${c.sso}`]);
    expect(pj.edition.sections.rising.map((s) => s.id)).toEqual(pj.clusters.filter((x) => x.trend === 'rising').map((x) => x.id));
    expect(pj.edition.sections.quiet).toEqual([]); // the quiet docs cluster is not the product team's
    const dj = JSON.parse(docs!.json) as EditionJson;
    expect(dj.edition.sections.quiet.map((s) => s.id)).toEqual([`cluster-${c.docs}`]);
    expect(docs!.text).toContain('QUIET NOW');
    expect(docs!.text).toContain('Install page has a broken link');
    // Activity and coverage footer
    expect(pj.edition.activity.map((a) => a.channel)).toEqual(expect.arrayContaining(['#help', '#bugs', 'dev@lists.example.org']));
    expect(product!.text).toContain('gap in lumen-slack #bugs');
    expect(product!.text).toContain('lumen-slack waited 42 s on rate limits over 1 page');
    expect(product!.text).toContain('lumen-slack failed');
    expect(product!.html).toContain('waited 42 s on rate limits');
    // Rebuilding keeps one edition per team and week.
    await prepareEditions(app.ctx, WEEK);
    expect((await listEditions(app.db)).length).toBe(3);
  });

  it('one default edition when no team is configured', async () => {
    const { app, c } = await seeded('');
    const editions = await prepareEditions(app.ctx, WEEK);
    expect(editions.map((e) => e.team)).toEqual(['default']);
    expect(ids(editions[0]!)).toEqual(expect.arrayContaining([`cluster-${c.csv}`, `cluster-${c.dark}`, `cluster-${c.login}`, `cluster-${c.sso}`]));
  });

  it('applies the curation: hidden, pinned order, edited title, why this matters now', async () => {
    const { app, c } = await seeded();
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    const curated = await setEditionCuration(app.ctx, draft.id, {
      hidden: [`cluster-${c.login}`],
      order: [`cluster-${c.sso}`, `cluster-${c.dark}`],
      titles: { [`cluster-${c.dark}`]: 'Dark mode (curated <title>)' },
      notes: { [`cluster-${c.sso}`]: 'Acme <b>blocks</b> its rollout on this.' },
    });
    expect(curated.text).toMatch(/1\. SSO with Okta[\s\S]*Why this matters now: Acme <b>blocks<\/b> its rollout on this\.[\s\S]*2\. Dark mode \(curated <title>\)/);
    expect(curated.text).not.toContain('Login');
    expect(curated.text).toContain('1 entry was left out by the curator');
    expect(curated.html).toContain('Dark mode (curated &lt;title&gt;)');
    expect(curated.html).toContain('Acme &lt;b&gt;blocks&lt;/b&gt; its rollout');
    expect(curated.html).not.toContain('Login');
    // A rebuild keeps the curation.
    const rebuilt = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    expect(rebuilt.text).toMatch(/1\. SSO with Okta/);
    // Approved editions are frozen.
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    await expect(setEditionCuration(app.ctx, draft.id, { hidden: [] })).rejects.toThrow(/only a draft/);
    await expect(setEditionCuration(app.ctx, draft.id, { hidden: 'x' })).rejects.toThrow(/invalid curation/);
  });
});

describe('sending', () => {
  it('sends multipart/alternative with Message-ID, List-Id, the archive link, and escapes hostile text', async () => {
    const { app } = await seeded();
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    const o = await sendEdition(app.ctx, draft.id);
    expect(o.status).toBe('sent');
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.envelope.to.sort()).toEqual(['eng@example.org', 'pm@example.org']);
    expect(smtp.messages[0]!.raw).toMatch(/Content-Type: multipart\/alternative/i);
    const m = await smtp.parsed(0);
    expect(m.messageId).toBe('<digest.2026-W48.product@gleaner.example.org>');
    expect(m.messageId).toBe(editionMessageId(app.config, 'product', WEEK.start));
    expect(smtp.messages[0]!.raw).toMatch(/^List-Id: Gleaner digest for product <product\.digest\.gleaner\.example\.org>\r?$/im);
    expect(m.subject).toBe('Community feedback digest · product · 2026-W48');
    const link = `https://gleaner.example.org/digests/${draft.id}`;
    expect(m.text).toContain(link);
    expect(m.html).toContain(`href="${link}"`);
    // Hostile community text: shown as text, never as markup or a link.
    const html = m.html as string;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<img/i);
    expect(html).not.toMatch(/<[^>]+\sonerror\s*=/i);
    expect(html).not.toMatch(/href="\s*javascript:/i);
    expect(html).not.toContain('javascript:alert(4)');
    expect(html).toContain('Login &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; is slow');
    expect(m.text).toContain(HOSTILE_TITLE);
    expect(m.text).not.toContain('javascript:alert(4)');
    // Dark mode and explicit colours.
    expect(html).toContain('name="color-scheme" content="light dark"');
    expect(html).toContain('prefers-color-scheme: dark');
    const e = await getEdition(app.db, draft.id);
    expect(e).toMatchObject({ status: 'sent', attempts: 1, messageId: m.messageId, recipients: ['pm@example.org', 'eng@example.org'] });
    expect(e!.smtpResponse).toMatch(/^250/);
  });

  it('a second send, and two concurrent senders, send once', async () => {
    const dbPath = join(tempDir('gleaner-digest-'), 'gleaner.db');
    const { app } = await seeded(TEAMS, { dbPath });
    const other = await appWith(configYaml(smtp.port, TEAMS), { dbPath });
    apps.push(other);
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    const outcomes = await Promise.all([sendEdition(app.ctx, draft.id), sendEdition(other.ctx, draft.id), sendWithRetry(other.ctx, draft.id)]);
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(1);
    expect(outcomes.every((o) => ['sent', 'busy', 'already-sent'].includes(o.status))).toBe(true);
    expect((await sendEdition(app.ctx, draft.id)).status).toBe('already-sent');
    expect((await sendDue(other.ctx)).length).toBe(0);
    expect(smtp.messages).toHaveLength(1);
  });

  it('a crash between send and record: the retry does not send again, the edition waits for a human', async () => {
    let now = NOW;
    const { app } = await seeded(TEAMS, { now: () => now });
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    const crash = new Error('simulated crash after the server accepted the message');
    await expect(sendEdition({ ...app.ctx, onAccepted: async () => Promise.reject(crash) }, draft.id)).rejects.toBe(crash);
    expect(smtp.messages).toHaveLength(1);
    expect((await getEdition(app.db, draft.id))!.status).toBe('sending');
    // A retry within the lease: someone holds it.
    expect((await sendEdition(app.ctx, draft.id)).status).toBe('busy');
    // After the lease: resolved as unknown, not re-sent.
    now += 11 * 60_000;
    const o = await sendWithRetry(app.ctx, draft.id);
    expect(o.status).toBe('unknown');
    expect((await sendDue(app.ctx)).length).toBe(0);
    expect(smtp.messages).toHaveLength(1);
    const e = await getEdition(app.db, draft.id);
    expect(e!.status).toBe('unknown');
    expect(e!.lastError).toMatch(/may have been delivered/);
    // The curator checks an inbox and settles it.
    expect(await resolveUnknown(app.db, draft.id, 'sent', 'carol', now)).toBe(true);
    expect((await sendEdition(app.ctx, draft.id)).status).toBe('already-sent');
    expect(smtp.messages).toHaveLength(1);
  });

  it('a connection lost before the server replied to the data: unknown, not re-sent', async () => {
    const { app } = await seeded();
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    smtp.dropNextReply();
    const o = await sendWithRetry(app.ctx, draft.id, { sleep: async () => undefined });
    expect(o.status).toBe('unknown');
    expect(smtp.messages).toHaveLength(1);
    expect((await sendDue(app.ctx)).length).toBe(0);
    expect((await sendEdition(app.ctx, draft.id)).status).toBe('unknown');
    expect(smtp.messages).toHaveLength(1);
    expect((await getEdition(app.db, draft.id))!.lastError).toMatch(/may have accepted it/);
  });

  it('a sender stopped before reaching the server: resolved as failed and sent once on retry', async () => {
    let now = NOW;
    const { app } = await seeded(TEAMS, { now: () => now });
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    expect(await claimSend(app.db, draft.id, { token: 'dead-sender', now, leaseMs: 60_000, recipients: [] })).toBe(true);
    expect((await sendEdition(app.ctx, draft.id)).status).toBe('busy');
    now += 2 * 60_000;
    const o = await sendEdition(app.ctx, draft.id);
    expect(o.status).toBe('sent');
    expect(smtp.messages).toHaveLength(1);
    expect((await getEdition(app.db, draft.id))!.attempts).toBe(2);
  });

  it('an SMTP refusal mid-send is retried with backoff and reported', async () => {
    const { app } = await seeded();
    const draft = await prepareEdition(app.ctx, teamByName(app.config, 'product'), WEEK);
    await approveEdition(app.ctx, draft.id, 'carol', { send: false });
    smtp.refuse(2, 451);
    const sleeps: number[] = [];
    const o = await sendWithRetry(app.ctx, draft.id, { sleep: async (ms) => void sleeps.push(ms) });
    expect(o.status).toBe('sent');
    expect(sleeps).toEqual([5, 10]);
    expect(smtp.messages).toHaveLength(1);
    expect((await getEdition(app.db, draft.id))!.attempts).toBe(3);

    // Refused every time: kept as failed with the server's reply, and due again after its backoff.
    const docs = await prepareEdition(app.ctx, teamByName(app.config, 'docs'), WEEK);
    await approveEdition(app.ctx, docs.id, 'carol', { send: false });
    smtp.refuse(10, 451);
    const f = await sendWithRetry(app.ctx, docs.id, { sleep: async () => undefined });
    expect(f).toMatchObject({ status: 'failed', retryable: true });
    const e = await getEdition(app.db, docs.id);
    expect(e).toMatchObject({ status: 'failed', attempts: 3 });
    expect(e!.lastError).toMatch(/refused.*451/);
    expect(e!.nextAttemptAt).toBeGreaterThan(NOW);

    // A permanent refusal is not retried.
    smtp.refuse(10, 554);
    const help = await prepareEdition(app.ctx, teamByName(app.config, 'help-desk'), WEEK);
    await approveEdition(app.ctx, help.id, 'carol', { send: false });
    const p = await sendWithRetry(app.ctx, help.id, { sleep: async () => undefined });
    expect(p).toMatchObject({ status: 'failed', retryable: false });
    expect((await getEdition(app.db, help.id))!.attempts).toBe(1);
    expect(smtp.messages).toHaveLength(1);
  });

  it('autoApprove: the scheduled run sends without review, once', async () => {
    const { app } = await seeded(TEAMS.replace('teams:', 'teams:') + '\n', {});
    app.config.digest.autoApprove = true;
    const r = await runWeeklyDigest(app.ctx, { sendNow: true });
    expect(r.period).toEqual(WEEK);
    expect(r.editions.map((e) => [e.team, e.status])).toEqual([
      ['product', 'sent'],
      ['docs', 'sent'],
      ['help-desk', 'sent'],
    ]);
    expect(smtp.messages).toHaveLength(3);
    await runWeeklyDigest(app.ctx, { sendNow: true });
    expect(smtp.messages).toHaveLength(3);
    const e = await getEdition(app.db, r.editions[0]!.id);
    expect(e).toMatchObject({ approvedBy: 'autoApprove', status: 'sent' });
  });

  it('without autoApprove the scheduled run only drafts', async () => {
    const { app } = await seeded();
    const r = await runWeeklyDigest(app.ctx, { sendNow: true });
    expect(r.editions.every((e) => e.status === 'draft')).toBe(true);
    expect(smtp.messages).toHaveLength(0);
  });
});

describe('gleaner digest (CLI)', () => {
  async function cli(dir: string, args: string[]): Promise<string> {
    const out: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      const program = new Command().exitOverride().option('-c, --config <file>').option('--db <url>');
      registerDigestCommands(program);
      await program.parseAsync(['node', 'gleaner', '-c', join(dir, 'gleaner.yaml'), '--db', join(dir, 'gleaner.db'), ...args]);
    } finally {
      spy.mockRestore();
    }
    return out.join('\n');
  }

  it('--preview, approve, --send twice, list', async () => {
    const dir = tempDir('gleaner-digest-cli-');
    writeFileSync(join(dir, 'gleaner.yaml'), configYaml(smtp.port, TEAMS));
    const app = await appWith(configYaml(smtp.port, TEAMS), { dbPath: join(dir, 'gleaner.db') });
    await seed(app.db);
    await app.close();
    const preview = await cli(dir, ['digest', '--preview', '--team', 'product', '--week', '2026-W48', '--out', join(dir, 'out')]);
    expect(preview).toContain('digest-2026-W48-product.html');
    expect(preview).toMatch(/#1 product 2026-W48 draft/);
    expect(await cli(dir, ['digest', '--send', '--team', 'product', '--week', '2026-W48'])).toMatch(/is a draft; approve it first/);
    process.exitCode = 0;
    expect(await cli(dir, ['digest', 'approve', '--team', 'product', '--week', '2026-W48', '--by', 'carol', '--no-send'])).toMatch(/approved/);
    expect(await cli(dir, ['digest', '--send', '--team', 'product', '--week', '2026-W48'])).toMatch(/#1 sent as <digest\.2026-W48\.product@gleaner\.example\.org>/);
    expect(await cli(dir, ['digest', '--send', '--team', 'product', '--week', '2026-W48'])).toMatch(/already sent/);
    expect(smtp.messages).toHaveLength(1);
    expect(await cli(dir, ['digest', 'list'])).toMatch(/#1 product 2026-W48 sent, 1 attempt/);
    // The period files still work as before.
    const files = await cli(dir, ['digest', '--week', '2026-W48', '--out', join(dir, 'files')]);
    expect(files).toContain('digest-2026-W48.html');
    expect(process.exitCode ?? 0).toBe(0);
  });
});
