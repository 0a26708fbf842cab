// The digest's store functions on PostgreSQL: editions per team, the atomic claim under concurrent
// senders, a stopped sender resolved, the coverage footer's records.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { teamByName } from '../../src/digest/edition.js';
import type { EditionJson } from '../../src/model/digest.js';
import { approveEdition, prepareEditions, prepareEdition } from '../../src/digest/workflow.js';
import { sendEdition } from '../../src/digest/send.js';
import { claimSend, getEdition, listEditions } from '../../src/store/digests.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { configYaml, NOW, seed, startSmtp, TEAMS, WEEK, type SmtpCapture } from './support.js';

let smtp: SmtpCapture;
let tdb: TestDatabase;
let app: App;
let other: App;
let now = NOW;

beforeAll(async () => {
  smtp = await startSmtp();
  tdb = await createTestDatabase(inject('pgUrl'));
  const config = parseConfig(configYaml(smtp.port, TEAMS), {});
  app = await openApp({ configObject: config, db: tdb.url, redisUrl: null, now: () => now });
  other = await openApp({ configObject: config, db: tdb.url, redisUrl: null, now: () => now });
  await seed(app.db);
}, 120_000);
afterAll(async () => {
  await other?.close();
  await app?.close();
  await tdb?.drop();
  await smtp?.close();
});

describe('digest store on PostgreSQL', () => {
  it('editions, coverage, one send out of concurrent senders, a stopped sender resolved', async () => {
    const editions = await prepareEditions(app.ctx, WEEK);
    expect(editions.map((e) => e.team)).toEqual(['product', 'docs', 'help-desk']);
    await prepareEditions(other.ctx, WEEK);
    expect((await listEditions(app.db)).length).toBe(3);
    const pj = JSON.parse(editions[0]!.json) as EditionJson;
    expect(pj.edition.coverage.rateLimits).toEqual([{ source: 'lumen-slack', waitedMs: 42_000, pages: 1 }]);
    expect(pj.edition.coverage.gaps).toHaveLength(1);

    const product = editions[0]!;
    await approveEdition(app.ctx, product.id, 'carol', { send: false });
    const outcomes = await Promise.all([sendEdition(app.ctx, product.id), sendEdition(other.ctx, product.id), sendEdition(app.ctx, product.id)]);
    expect(outcomes.filter((o) => o.status === 'sent')).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);

    const docs = await prepareEdition(app.ctx, teamByName(app.config, 'docs'), WEEK);
    await approveEdition(app.ctx, docs.id, 'carol', { send: false });
    expect(await claimSend(app.db, docs.id, { token: 'stopped', now, leaseMs: 1000, recipients: [] })).toBe(true);
    expect(await claimSend(other.db, docs.id, { token: 'second', now, leaseMs: 1000, recipients: [] })).toBe(false);
    now += 5000;
    expect((await sendEdition(other.ctx, docs.id)).status).toBe('sent');
    expect((await getEdition(app.db, docs.id))!.attempts).toBe(2);
    expect(smtp.messages).toHaveLength(2);
  });
});
