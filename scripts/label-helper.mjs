// Lists the messages of an mbox or a Slack export zip with their label keys, to speed up labelling
// data/labelled/*.csv by hand: `node scripts/label-helper.mjs <archive> [--chars N]`.
// Mail: Message-ID, From, Subject, In-Reply-To and the body without quoted lines (capped).
// Slack: channel name, ts, user, subtype and the text. Prints only; the judgements are a person's.
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import yauzl from 'yauzl';

const [path, ...rest] = process.argv.slice(2);
if (!path) {
  process.stderr.write('usage: node scripts/label-helper.mjs <archive.mbox|export.zip> [--chars N]\n');
  process.exit(2);
}
const charsAt = rest.indexOf('--chars');
const maxChars = charsAt >= 0 ? Number(rest[charsAt + 1]) : 700;
const out = (s) => process.stdout.write(`${s}\n`);

function bodyWithoutQuotes(text) {
  const kept = [];
  for (const line of (text ?? '').split(/\r?\n/)) {
    if (/^\s*>/.test(line)) continue;
    if (/^-- ?$/.test(line)) break;
    if (/^-+ ?Original Message/i.test(line) || /^-{60,}$/.test(line)) break;
    // Interleaved replies: drop the attribution lines, keep the answers between the quotes.
    if (/wrote:\s*$|a écrit :\s*$|schrieb .*:\s*$/.test(line) || /^\S+@\S+> ?wrote:/.test(line)) continue;
    if (/^On .{5,80}\d{4}.{0,60}$/.test(line) && !/[.?!]$/.test(line)) continue;
    if (line.trim() === '' && kept.at(-1) === '') continue;
    kept.push(line.trimEnd());
  }
  const s = kept.join('\n').trim();
  return s.length > maxChars ? `${s.slice(0, maxChars)} [...]` : s;
}

async function mbox(file) {
  const text = readFileSync(file, 'latin1');
  const parts = text.split(/\n(?=From \S+ +\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\n)/);
  let n = 0;
  for (const part of parts) {
    if (!part.startsWith('From ')) continue;
    const raw = Buffer.from(part.slice(part.indexOf('\n') + 1), 'latin1');
    const m = await simpleParser(raw);
    n++;
    const id = (m.messageId ?? '').replace(/^<|>$/g, '');
    out(`=== #${n} ${id}`);
    out(`From: ${m.from?.text ?? ''} | ${m.date?.toISOString() ?? ''}`);
    out(`Subject: ${m.subject ?? ''}${m.inReplyTo ? ' | re' : ''}`);
    // Notification mails: their first lines say what they are.
    const bot = /gitbox|jira@|jenkins|builds@|notifications@/i.test(m.from?.text ?? '');
    out(bot ? bodyWithoutQuotes(m.text).split('\n').slice(1, 4).join('\n').slice(0, 240) : bodyWithoutQuotes(m.text));
  }
}

function readZip(file) {
  return new Promise((resolve, reject) => {
    const files = new Map();
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      zip.readEntry();
      zip.on('entry', (e) => {
        if (e.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(e, (err2, s) => {
          if (err2) return reject(err2);
          const chunks = [];
          s.on('data', (c) => chunks.push(c));
          s.on('end', () => {
            files.set(e.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(files));
    });
  });
}

async function slack(file) {
  const files = await readZip(file);
  const users = new Map(JSON.parse(files.get('users.json') ?? '[]').map((u) => [u.id, u.name]));
  for (const name of [...files.keys()].filter((f) => /\/\d{4}-\d\d-\d\d\.json$/.test(f)).sort()) {
    const channel = name.split('/')[0];
    for (const msg of JSON.parse(files.get(name))) {
      const who = users.get(msg.user) ?? msg.username ?? msg.bot_id ?? msg.user ?? '?';
      const att = (msg.attachments ?? []).map((a) => a.fallback ?? a.text ?? '').join(' / ');
      const text = `${msg.text ?? ''}${att ? ` [att: ${att}]` : ''}`.replace(/\s+/g, ' ');
      out(`${channel} ${msg.ts} ${who}${msg.subtype ? ` (${msg.subtype})` : ''}${msg.thread_ts && msg.thread_ts !== msg.ts ? ` thread=${msg.thread_ts}` : ''}: ${text.slice(0, maxChars)}`);
    }
  }
}

await (path.endsWith('.zip') ? slack(path) : mbox(path));
