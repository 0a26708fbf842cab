// A `people:` entry whose identities appear one after the other, with cluster runs in between (as a
// long-running worker sees them): the second identity is linked to the person in the run that first
// sees it, not only after a restart. Likewise two identities sharing an email.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { ensureSource } from '../../src/store/queries.js';
import { runIngest } from '../../src/stages/ingest.js';
import { runCluster } from '../../src/stages/cluster.js';
import type { RawMessage } from '../../src/model/index.js';
import { tempDir } from '../support/factories.js';

let app: App | undefined;
afterAll(async () => {
  await app?.close();
});

const CONFIG = `
orgs:
  - name: Acme
    segment: customer
    domains: [acme.io]
people:
  - name: Priya Raman
    identities: ["slack:U01PRIYA", "irc:libera/priya"]
`;

async function ingestAndCluster(a: App, platform: string, source: string, messages: RawMessage[]): Promise<void> {
  const sourceId = await ensureSource(a.db, source, platform, Date.now());
  await runIngest(a.ctx, { sourceId, platform, messages, normalizerVersion: 1 });
  await a.queue.idle({ queues: ['enrich'] });
  const items = (await a.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id);
  await runCluster(a.ctx, { itemIds: items });
}

async function personOf(a: App, kind: string, value: string): Promise<{ person_id: number; display_name: string; org: string | null }> {
  return a.db
    .selectFrom('identities as i')
    .innerJoin('people as p', 'p.id', 'i.person_id')
    .leftJoin('orgs as o', 'o.id', 'p.org_id')
    .select(['i.person_id', 'p.display_name', 'o.name as org'])
    .where('i.kind', '=', kind)
    .where('i.value', '=', value)
    .executeTakeFirstOrThrow();
}

describe('people config over a long-running cluster worker', () => {
  it('links identities that appear after the first cluster run', async () => {
    app = await openApp({ configObject: parseConfig(CONFIG), db: join(tempDir(), 'late.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
    startWorkers(app, ['enrich']);
    const t0 = Date.UTC(2026, 10, 9);
    await ingestAndCluster(app, 'slack', 'community', [
      { externalId: 's1', channel: 'C1', author: { id: 'U01PRIYA', name: 'priya' }, text: 'The CSV export button crashes the dashboard when a table has more than fifty rows', sentAt: t0 },
    ]);
    const first = await personOf(app, 'slack', 'U01PRIYA');
    expect(first.display_name).toBe('Priya Raman');

    // Days later, on IRC, and by mail from two addresses of one mailbox owner.
    await ingestAndCluster(app, 'irc', 'libera', [
      { externalId: 'i1', channel: '#lumen', author: { id: 'libera/priya', name: 'priya' }, text: 'same here: CSV export of a big dashboard table crashes the page', sentAt: t0 + 86_400_000 },
    ]);
    const irc = await personOf(app, 'irc', 'libera/priya');
    expect(irc.person_id).toBe(first.person_id);

    await ingestAndCluster(app, 'mail', 'users-list', [
      {
        externalId: '<m1@acme.io>',
        channel: 'users',
        author: { id: 'ana@acme.io', name: 'Ana', email: 'ana@acme.io' },
        text: 'Exporting a dashboard table with more than fifty rows to CSV crashes the page for us',
        sentAt: t0 + 2 * 86_400_000,
        subject: 'CSV export crash',
      },
    ]);
    const ana = await personOf(app, 'email', 'ana@acme.io');
    expect(ana.org).toBe('Acme'); // by the email domain, in the run that first saw her
  }, 120_000);
});
