// The outbound config (trackers, webhooks) and what the clients build without a server: each tracker's
// required keys, names unique, secrets redacted; the webhook signature; the issue Markdown and ADF.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig, redact, secretValues } from '../../src/config/index.js';
import { signature } from '../../src/webhooks/deliver.js';
import { escapeMarkdown, toMarkdown } from '../../src/trackers/content.js';
import { toAdf } from '../../src/trackers/jira.js';
import { isAdf } from '../fakes/jira.js';

describe('outbound config', () => {
  it('each tracker type asks for its own keys, with messages naming them', () => {
    const bad = `
trackers:
  - { name: a, type: github, token: t1234567 }
  - { name: b, type: jira, project: DRIFT, token: t1234567 }
  - { name: c, type: linear, token: t1234567 }
  - { name: d, type: github, repo: nope, token: t1234567 }
`;
    expect(() => parseConfig(bad, {})).toThrow(
      /trackers\.0\.repo: a github tracker needs repo[\s\S]*trackers\.1\.user: a jira tracker needs user[\s\S]*trackers\.2\.team: a linear tracker needs team[\s\S]*trackers\.3\.repo: a GitHub repo is owner\/name/,
    );
    expect(() => parseConfig('trackers:\n  - { name: a, type: gitlab, repo: g/p, token: t1234567 }\n  - { name: a, type: github, repo: o/r, token: t1234567 }\n', {})).toThrow(
      /two trackers are named a/,
    );
    expect(() => parseConfig('webhooks:\n  - { name: w, url: "https://x.example/h", secret: s3cr3t-value, events: [cluster.exploded] }\n', {})).toThrow(/webhooks\.0\.events\.0/);
    expect(() => parseConfig('trackers:\n  - { name: a, type: asana, token: t1234567 }\n', {})).toThrow(/trackers\.0\.type/);
  });

  it('tokens and secrets come from the environment or files and are redacted', () => {
    const c = parseConfig('trackers:\n  - { name: gh, type: github, repo: o/r, token: "${GH}" }\nwebhooks:\n  - { name: w, url: "https://x.example/h", secret: "${WH}", events: [digest.sent] }\n', {
      GH: 'ghp_secret_token_value',
      WH: 'webhook-secret-value',
    });
    expect(c.trackers[0]).toMatchObject({ token: 'ghp_secret_token_value', includeOrgs: false, retries: 3 });
    expect(c.outbound).toEqual({ syncSchedule: '0 * * * *', deliverSchedule: '* * * * *' });
    const shown = JSON.stringify(redact(c));
    expect(shown).not.toContain('ghp_secret_token_value');
    expect(shown).not.toContain('webhook-secret-value');
    expect(secretValues(c)).toEqual(expect.arrayContaining(['ghp_secret_token_value', 'webhook-secret-value']));
  });
});

describe('webhook signature', () => {
  it('is sha256= and the hex HMAC-SHA256 of the raw body', () => {
    const body = '{"event":"ping","data":{"x":"é"}}';
    expect(signature('k3y-secret', body)).toBe(`sha256=${createHmac('sha256', 'k3y-secret').update(Buffer.from(body, 'utf8')).digest('hex')}`);
    expect(signature('k3y-secret', body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });
});

describe('issue content', () => {
  const blocks = [
    { type: 'paragraph' as const, runs: [{ text: '3 people in 2 channels', strong: true }] },
    { type: 'heading' as const, text: 'In their own words' },
    { type: 'quote' as const, runs: [{ text: 'ping @alice <b>now</b> #12 *loud*' }, { text: ' — ' }, { text: 'slack #help', href: 'https://x.slack.com/archives/C1/p1' }] },
    { type: 'list' as const, items: [[{ text: 'Segments: customer 2' }]] },
  ];

  it('Markdown: community text is inert (no mention, no HTML, no emphasis, no issue reference)', () => {
    const md = toMarkdown(blocks);
    expect(md).toContain('ping @\u200balice \\<b\\>now\\</b\\> \\#12 \\*loud\\*');
    expect(md).toContain('[slack \\#help](<https://x.slack.com/archives/C1/p1>)');
    expect(md).toContain('**3 people in 2 channels**');
    expect(escapeMarkdown('a\nb')).toBe('a b');
  });

  it('ADF for Jira: a version 1 doc with headings, blockquotes, bullet lists and link marks', () => {
    const adf = toAdf(blocks);
    expect(isAdf(adf)).toBe(true);
    expect(JSON.stringify(adf)).toContain('{"type":"link","attrs":{"href":"https://x.slack.com/archives/C1/p1"}}');
    expect(adf.content?.map((n) => n.type)).toEqual(['paragraph', 'heading', 'blockquote', 'bulletList']);
  });
});
