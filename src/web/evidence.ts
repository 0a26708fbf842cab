// Why an identity belongs to its person, in words: the link evidence recorded on it (JSON, the latest
// decision outermost and earlier ones under `previous`) as sentences with a date, newest first.
// The values inside come from community data (emails, names); the templates escape them.

const ymd = (t: number): string => new Date(t).toISOString().slice(0, 10);

function str(v: unknown): string | null {
  return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null;
}

function sentence(e: Record<string, unknown>, fallbackAt: number): string {
  const at = typeof e.at === 'number' && Number.isFinite(e.at) ? e.at : fallbackAt;
  const on = `on ${ymd(at)}`;
  const rule = str(e.rule) ?? 'unknown';
  switch (rule) {
    case 'same-email':
      return `Linked ${on} because it has the same email address${str(e.email) ? ` (${str(e.email)})` : ''} as another identity of this person (rule same-email).`;
    case 'same-slack-profile-email':
      return `Linked ${on} because its Slack profile email${str(e.email) ? ` (${str(e.email)})` : ''} is the email of another identity of this person (rule same-slack-profile-email).`;
    case 'config':
      return `Linked ${on} by the people: entry${str(e.person) ? ` "${str(e.person)}"` : ''} in the config${str(e.entry) ? ` (it lists ${str(e.entry)})` : ''}.`;
    case 'manual-merge':
      return `Merged in ${on} by ${str(e.actor) ?? 'a curator'} from ${str(e.fromName) ? `${str(e.fromName)} (person ${str(e.fromPerson) ?? '?'})` : `person ${str(e.fromPerson) ?? '?'}`}.`;
    case 'manual-unmerge':
      return `Split off ${on} by ${str(e.actor) ?? 'a curator'} from person ${str(e.fromPerson) ?? '?'} into a person of its own.`;
    default:
      return `Linked ${on} by the rule ${rule}.`;
  }
}

/**
 * The evidence as sentences, newest first. `fallbackAt` dates a decision that recorded no time of its
 * own (a link made at import: the identity's creation). Text that is not JSON is shown as it is.
 */
export function evidenceSentences(evidence: string | null, fallbackAt: number): string[] {
  if (!evidence) return [];
  let e: unknown;
  try {
    e = JSON.parse(evidence);
  } catch {
    return [evidence];
  }
  const out: string[] = [];
  for (let depth = 0; e && typeof e === 'object' && !Array.isArray(e) && depth < 20; depth++) {
    const rec = e as Record<string, unknown>;
    out.push(sentence(rec, fallbackAt));
    e = rec.previous;
  }
  if (!out.length) return [evidence];
  return out;
}
