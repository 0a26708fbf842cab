// What the public edition reads: candidate quotes (message text with where it was said and who said
// it, so the author's own names can be removed) and every name the store knows for people and orgs.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { messagesWithAuthors } from './authors.js';

type Db = Kysely<Database>;

export interface QuoteCandidate {
  messageId: number;
  text: string;
  at: number;
  permalink: string | null;
  source: string;
  platform: string;
  channelExternalId: string;
  channelName: string | null;
  isStaff: boolean;
}

export async function quoteCandidates(db: Db, messageIds: readonly number[]): Promise<QuoteCandidate[]> {
  if (!messageIds.length) return [];
  const rows = await messagesWithAuthors(db)
    .innerJoin('channels as ch', 'ch.id', 'm.channel_id')
    .innerJoin('sources as s', 's.id', 'm.source_id')
    .select([
      'm.id as messageId',
      'm.clean_text as text',
      'm.sent_at as at',
      'm.permalink as permalink',
      's.name as source',
      's.platform as platform',
      'ch.external_id as channelExternalId',
      'ch.name as channelName',
      'p.is_staff as isStaff',
    ])
    .where('m.id', 'in', [...messageIds])
    .where('m.deleted', '=', 0)
    .where('m.is_bot', '=', 0)
    .orderBy('m.sent_at')
    .orderBy('m.id')
    .execute();
  return rows.map((r) => ({ ...r, at: Number(r.at), isStaff: Number(r.isStaff) === 1 }));
}

/** Every name, handle and address of people, and the orgs other than staff's own, in the store (what a public text must not carry). */
export async function knownNames(db: Db): Promise<{ people: string[]; orgs: string[] }> {
  const people = await db.selectFrom('people').select('display_name').execute();
  const idents = await db.selectFrom('identities').select(['value', 'display_name', 'email']).execute();
  // The staff org is the community's own (its product's name is everywhere in the text): not a secret.
  const orgs = await db.selectFrom('orgs').select('name').where('segment', '!=', 'staff').execute();
  const out = new Set<string>();
  for (const p of people) out.add(p.display_name);
  for (const i of idents) for (const v of [i.value, i.display_name, i.email]) if (v) out.add(v);
  return { people: [...out], orgs: orgs.map((o) => o.name) };
}
