// The join the readers of messages share: a message with who wrote it.
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Messages (m) with their author's identity (i) and person (p). identities.person_id is a NOT NULL
 * foreign key (enforced on both dialects): the join with people filters nothing.
 */
export function messagesWithPeople(db: Kysely<Database>) {
  return db.selectFrom('messages as m').innerJoin('identities as i', 'i.id', 'm.identity_id').innerJoin('people as p', 'p.id', 'i.person_id');
}

/** Messages with their author's identity (i), person (p) and org (o, null when the person has none). */
export function messagesWithAuthors(db: Kysely<Database>) {
  return messagesWithPeople(db).leftJoin('orgs as o', 'o.id', 'p.org_id');
}
