// A generated mailing-list archive that reads like a community's: bug reports, feature requests and
// questions about a few dozen product areas, with replies threaded under them and some chatter.
// Deterministic for a seed, so two stores imported from it can be compared row for row.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

const AREAS = [
  'the dashboard export',
  'okta sso login',
  'the python sdk',
  'the helm chart',
  'webhook retries',
  'billing invoices',
  'the cli upgrade',
  'alert rules',
  'query editor',
  'slack notifications',
  'api rate limits',
  'the go client',
  'csv import',
  'pdf reports',
  'audit log',
  'password reset',
  'team invites',
  'dark mode',
  'metrics retention',
  'search filters',
  'mobile app',
  'two factor auth',
  'data residency',
  'usage quotas',
];
const SYMPTOMS = [
  'crashes with a timeout error',
  'fails after the upgrade to 2.4',
  'is broken again since yesterday',
  'returns a 500 error',
  'hangs forever and never finishes',
  'charges us twice',
  'loses the settings after a restart',
  'shows the wrong timezone',
];
const WISHES = ['please add support for', 'it would be great to have', 'feature request: allow', 'could you add an option for'];
const EXTRAS = ['scheduled runs', 'per-team permissions', 'a dark theme', 'bulk editing', 'saml groups', 'custom fields'];
const SOCIAL = ['Meetup in Berlin next month', 'Welcome to our new members', 'Slides from the community call', 'Office hours on Thursday', 'Conference talk recordings are online'];
const CHATTER = ['thanks, that fixed it', 'same here, any update?', '+1 we see this too', 'I will try that tomorrow', 'works for me now, thank you', 'see the docs page for this'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function asctime(d: Date): string {
  const [wd, , mon] = d.toUTCString().split(' ');
  return `${wd!.slice(0, 3)} ${mon} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`;
}

/** Writes `n` mails to `path`; about a third start a thread with a report, the rest reply or chat. */
export async function writeFeedbackMbox(path: string, n: number, seed = 1): Promise<void> {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out = createWriteStream(path);
  const t0 = Date.UTC(2024, 2, 4, 8);
  const roots: Array<{ i: number; subject: string }> = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(t0 + i * 90_000);
    const from = `user${Math.floor(r() * 1500)}@example${Math.floor(r() * 40)}.org`;
    let subject: string;
    let body: string;
    let parent: number | null = null;
    if (!roots.length || r() < 0.4) {
      const area = pick(AREAS);
      const kind = r();
      if (kind < 0.15) {
        subject = `${pick(SOCIAL)} (${i % 97})`;
        body = `Hi everyone,\n\n${subject}. See you there!\n\nuser ${i}`;
      } else if (kind < 0.6) {
        subject = `${area} ${pick(SYMPTOMS)}`;
        body = `Hi all,\n\nSince this week ${area} ${pick(SYMPTOMS)} for our team. We tried restarting and it still fails.\nIs this a known bug? Steps: open ${area}, wait a minute, see the error.\n\nThanks, user ${i}`;
      } else {
        subject = `${pick(WISHES)} ${pick(EXTRAS)} in ${area}`;
        body = `Hello,\n\n${pick(WISHES)} ${pick(EXTRAS)} in ${area}. Right now we have to do it by hand every week, which is slow.\n\nRegards, user ${i}`;
      }
      roots.push({ i, subject });
    } else {
      const root = roots[roots.length - 1 - Math.floor(r() * Math.min(roots.length, 40))]!;
      parent = root.i;
      subject = `Re: ${root.subject}`;
      body = `${pick(CHATTER)}\n\n> ${root.subject}`;
    }
    const lines = [
      `From ${from} ${asctime(at)}`,
      `From: Member ${i} <${from}>`,
      'To: users@lists.example.org',
      `Subject: ${subject}`,
      `Date: ${at.toUTCString()}`,
      `Message-ID: <m${i}.${seed}@example.org>`,
      ...(parent !== null ? [`In-Reply-To: <m${parent}.${seed}@example.org>`, `References: <m${parent}.${seed}@example.org>`] : []),
      'List-Id: Users <users.lists.example.org>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
      '',
    ];
    if (!out.write(lines.join('\n'))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
