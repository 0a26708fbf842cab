// The scenario set: the fictional Lumen community (examples/, written for Gleaner) run through the
// whole pipeline in-process (import -> ingest -> enrich -> cluster) with examples/gleaner.yaml, then
// the clusters, reporters, segments and order are checked against examples/README.md.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp, startWorkers, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { importFiles } from '../../src/runner/import.js';
import { QUEUE_NAMES } from '../../src/queue/port.js';
import { examplesDir } from '../../src/paths.js';
import { clusterEntries } from '../../src/digest/clusters.js';
import type { ClusterEntry } from '../../src/pipeline/digest-plan.js';
import { buildDigest } from '../../src/digest/build.js';
import { parseRange, parseWeek } from '../../src/pipeline/period.js';
import { runCluster } from '../../src/stages/cluster.js';
import { mergeClusters, moveItem, renameCluster, splitCluster } from '../../src/store/curation.js';
import { listPeopleWithIdentities, unlinkIdentity } from '../../src/store/people.js';
import { applyPeopleConfig } from '../../src/stages/people.js';
import { tempDir } from '../support/factories.js';
import { loadItems, loadItemsForDocs } from '../../src/store/clusters.js';
import { itemDoc } from '../../src/pipeline/cluster.js';
import { needDoc } from '../../src/pipeline/cluster-plan.js';

const ALL = parseRange('2026-10-05', '2026-11-15');
const W46 = parseWeek('2026-W46');

let app: App;
let entries: ClusterEntry[];

const names = (e: ClusterEntry) => e.entry.evidence!.reporters.map((r) => r.name).sort();
/** The cluster holding the item whose messages include this text. */
function holding(list: ClusterEntry[], text: string): ClusterEntry {
  const hit = list.find((e) => e.items.some((i) => i.messages.some((m) => m.text.includes(text))));
  if (!hit) throw new Error(`no cluster holds "${text}"`);
  return hit;
}
async function assignments(): Promise<Array<{ item_id: number; cluster_id: number; pinned: number }>> {
  return app.db.selectFrom('cluster_items').select(['item_id', 'cluster_id', 'pinned']).orderBy('item_id').execute();
}

beforeAll(async () => {
  const { config } = loadConfig(join(examplesDir(), 'gleaner.yaml'));
  app = await openApp({ configObject: config, db: join(tempDir(), 'scenario.db'), redisUrl: null, now: () => Date.UTC(2026, 10, 16) });
  const dir = examplesDir();
  const summary = await importFiles(app, [join(dir, 'slack', 'lumen-export'), join(dir, 'discord'), join(dir, 'matrix'), join(dir, 'irc')]);
  expect(summary.errors).toEqual([]);
  startWorkers(app, QUEUE_NAMES);
  await app.queue.idle();
  entries = await clusterEntries(app.db, ALL, { segments: config.segments });
}, 240_000);

afterAll(async () => {
  await app?.close();
});

describe('Lumen scenario: clusters, reporters, segments', () => {
  it('SSO login loop: Priya, Tomás, Mei and Sam across Slack, Discord and Matrix; the bridged copy and Jonas do not count', () => {
    const sso = holding(entries, 'our Okta sign-in is stuck in a loop');
    expect(sso).toBe(holding(entries, 'After upgrading to 2.4, signing in through Okta redirects back to the login page forever. SSO worked fine'));
    expect(sso).toBe(holding(entries, 'Same here: SSO login loop with Okta'));
    expect(names(sso)).toEqual(['Mei Chen', 'Priya Raman', 'Sam Okafor', 'Tomás Ferreira']);
    expect(sso.entry.segments).toEqual({ customer: 2, community: 2 });
    expect(sso.entry.evidence!.segments.customer!.orgs.sort()).toEqual(['Acme', 'Globex']);
    expect(sso.entry.kind).toBe('bug');
    expect(sso.entry.tags).toContain('area:auth');
    expect(sso.entry.title).toMatch(/okta|sso|login/i);
    // Mei's report arrives on Matrix and, relayed by the bridge, on IRC: one mention, not two.
    const mei = sso.entry.evidence!.reporters.find((r) => r.name === 'Mei Chen')!;
    expect(mei.messageIds).toHaveLength(1);
    // Jonas (staff) answered in three places and is never a reporter.
    expect(sso.items.some((i) => i.messages.some((m) => m.personName === 'Jonas Berg'))).toBe(true);
    expect(names(sso)).not.toContain('Jonas Berg');
  });

  it('PDF export: Ana, Kofi (+1) and Priya', () => {
    const pdf = holding(entries, 'export a dashboard as a PDF');
    expect(pdf).toBe(holding(entries, 'could we export dashboards as PDF'));
    expect(names(pdf)).toEqual(['Ana Souza', 'Kofi Boateng', 'Priya Raman']);
    expect(pdf.entry.segments).toEqual({ community: 2, customer: 1 });
    expect(pdf.entry.kind).toBe('feature');
    expect(pdf.entry.evidence!.messages.find((m) => m.role === 'me-too')).toBeTruthy();
  });

  it('Python SDK quickstart: Mei on IRC and Sam on Matrix (his bridged IRC copy counts once)', () => {
    const docs = holding(entries, 'the Python SDK quickstart is out of date: it still says pip install lumen');
    expect(docs).toBe(holding(entries, 'The Python SDK quickstart is out of date: from lumen import Client'));
    expect(names(docs)).toEqual(['Mei Chen', 'Sam Okafor']);
    expect(docs.entry.kind).toBe('docs');
  });

  // Known regression, open in issue 17: since staff's reply no longer raises an item of its own, the title
  // scorer prefers a later clause ("The import is now from lumen_sdk import Client"). it.fails turns red
  // the day the title is right again, so this line is then made an ordinary expectation.
  it.fails('Python SDK quickstart: titled by the need (known regression)', () => {
    const docs = holding(entries, 'the Python SDK quickstart is out of date: it still says pip install lumen');
    expect(docs.entry.title).toBe('The Python SDK quickstart is out of date');
  });

  it('data retention, CLI praise and billing', () => {
    const retention = holding(entries, 'how do I set data retention?');
    expect(retention).toBe(holding(entries, 'How do I set data retention? I want to keep raw events'));
    expect(names(retention)).toEqual(['Sam Okafor', 'Tomás Ferreira']);
    const praise = holding(entries, 'Been using the new lumen CLI all week');
    expect(praise).toBe(holding(entries, 'The new CLI is fantastic'));
    expect(praise.entry.kind).toBe('praise');
    const billing = holding(entries, 'The billing page on Lumen Cloud takes 30+ seconds');
    expect(names(billing)).toEqual(['Oleg Petrov']);
    expect(billing.entry.segments).toEqual({ customer: 1 });
    expect(billing.entry.why).toBe('1 person in 1 channel, from a customer (Initech); first seen 2 days ago, new');
  });

  // Known regression, open in issue 16: the grouper's average-linkage at 0.1 joins Sam's dark-mode praise
  // to the CLI praise (they share little more than "the new"). it.fails turns red once they are apart again.
  it.fails('CLI praise holds only the CLI praisers (known regression)', () => {
    expect(names(holding(entries, 'Been using the new lumen CLI all week'))).toEqual(['Ana Souza', 'Priya Raman']);
  });

  it('the cluster stage reads items as lean as it can and still sees what the full read gives (staff, bots, orgs included)', async () => {
    const ids = (await app.db.selectFrom('feedback_items').select('id').orderBy('id').execute()).map((r) => r.id);
    expect(ids.length).toBeGreaterThan(10);
    const loaded = await loadItems(app.db, ids);
    // Staff never raise an item, but their answers inside feedback threads are read with it.
    expect(loaded.some((i) => i.messages.some((m) => m.segment === 'staff'))).toBe(true);
    // Tags are left out of the lean read: placing (needDoc) and describing (DescribeItem) do not read them.
    expect(loaded.some((i) => i.tags.some((t) => t.startsWith('area:')))).toBe(true);
    const withoutTags = (docs: ReturnType<typeof itemDoc>[]) => docs.map(({ tags: _tags, ...rest }) => rest);
    const lean = (await loadItemsForDocs(app.db, ids)).map(itemDoc);
    expect(lean.every((d) => d.tags?.length === 0)).toBe(true);
    expect(withoutTags(lean)).toEqual(withoutTags(loaded.map(itemDoc)));
    expect((await loadItemsForDocs(app.db, ids)).map(needDoc)).toEqual(loaded.map(needDoc));
  });

  it('six distinct clusters, and no expected item strays into another cluster', () => {
    const keys = [
      'our Okta sign-in is stuck in a loop',
      'export a dashboard as a PDF',
      'it still says pip install lumen',
      'how do I set data retention?',
      'Been using the new lumen CLI',
      'The billing page on Lumen Cloud',
    ];
    const six = keys.map((k) => holding(entries, k));
    expect(new Set(six.map((e) => e.clusterId)).size).toBe(6);
    const expectedItems = new Set(six.flatMap((e) => e.items.map((i) => i.itemId)));
    for (const e of entries) if (!six.includes(e)) for (const i of e.items) expect(expectedItems.has(i.itemId)).toBe(false);
  });

  it('W46 digest: the SSO loop first, rising, with its sentence and explanation', async () => {
    const digest = await buildDigest(app.db, W46, { top: 10, segments: app.config.segments });
    const titles = digest.clusters.map((c) => c.title);
    const at = (k: RegExp) => titles.findIndex((t) => k.test(t));
    const sso = digest.clusters[0]!;
    expect(sso.title).toMatch(/okta|sso|login/i);
    expect(sso.trend).toBe('rising');
    expect(sso.why).toBe('4 people in 3 channels, 2 of them from customers (Acme, Globex); first seen 25 days ago, rising');
    // Ranked by the week: one customer and two community members voiced it in W46 (four people, two customers, to date).
    expect(sso.scoreExplanation).toMatch(/^1 customer x 3 \+ 2 community x 1 = 5 this period; to date 4 reporters \(weight 8\) in 3 channels/);
    expect(sso.quotes.length).toBe(3);
    expect(sso.quotes.every((q) => q.url)).toBe(true);
    // Expected order among the needs voiced in W46, by the week's weighted reporters: SSO (1 customer + 2
    // community), CLI praise (1 + 1), billing (a customer this week), data retention (one community member
    // this week; its customer spoke in W45).
    const order = [at(/okta|sso|login/i), at(/cli/i), at(/billing/i), at(/retention/i)];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The docs need was last voiced in W45: not in the W46 digest.
    expect(at(/quickstart/i)).toBe(-1);
  });
});

describe('identities', () => {
  it('config links each person across platforms with evidence; unmerge keeps every alias and sticks', async () => {
    const before = await listPeopleWithIdentities(app.db);
    const sam = before.find((p) => p.name === 'Sam Okafor')!;
    expect(sam.identities.map((i) => `${i.kind}:${i.value}`).sort()).toEqual(['irc:matrix:sam', 'matrix:@sam:matrix.org', 'slack:U01SAM']);
    expect(JSON.parse(sam.identities.find((i) => i.kind === 'slack')!.evidence!)).toMatchObject({ rule: 'config', entry: 'slack:U01SAM' });
    const oleg = before.find((p) => p.name === 'Oleg Petrov')!;
    expect(oleg.org).toBe('Initech');
    expect(before.find((p) => p.name === 'Jonas Berg')!.isStaff).toBe(true);
    const total = before.reduce((n, p) => n + p.identities.length, 0);

    const relay = sam.identities.find((i) => i.value === 'matrix:sam')!;
    const newPerson = await unlinkIdentity(app.db, relay.id, 'test', Date.UTC(2026, 10, 16));
    await applyPeopleConfig(app.db, { people: app.config.people, orgs: app.config.orgs }, Date.UTC(2026, 10, 16)); // idempotent, and the unmerge sticks
    const after = await listPeopleWithIdentities(app.db);
    expect(after.reduce((n, p) => n + p.identities.length, 0)).toBe(total);
    expect(after.find((p) => p.personId === newPerson)!.identities.map((i) => i.value)).toEqual(['matrix:sam']);
    expect(after.find((p) => p.name === 'Sam Okafor')!.identities).toHaveLength(2);
  });
});

describe('curation survives later runs', () => {
  it('merge, split, move, rename and pin are kept when the stage runs again from a fresh index', async () => {
    const list = await clusterEntries(app.db, ALL);
    const sso = holding(list, 'our Okta sign-in is stuck in a loop');
    const retention = holding(list, 'how do I set data retention?');
    const billing = holding(list, 'The billing page on Lumen Cloud');
    const pdf = holding(list, 'export a dashboard as a PDF');
    const now = Date.UTC(2026, 10, 16);
    await mergeClusters(app.db, billing.clusterId, retention.clusterId, now);
    const splitItem = sso.items[sso.items.length - 1]!.itemId;
    const newId = await splitCluster(app.db, sso.clusterId, [splitItem], 'Okta follow-ups', now);
    const moved = pdf.items[0]!.itemId;
    await moveItem(app.db, moved, billing.clusterId, now);
    await renameCluster(app.db, sso.clusterId, 'Okta SSO redirect loop after 2.4', true, now);
    const before = await assignments();

    app.services.cluster.forget();
    const all = (await app.db.selectFrom('feedback_items').select('id').execute()).map((r) => r.id);
    await runCluster(app.ctx, { itemIds: all });

    const after = await assignments();
    expect(after).toEqual(before); // nothing reshuffled, pinned or not
    expect(after.find((a) => a.item_id === moved)!.cluster_id).toBe(billing.clusterId);
    expect(after.find((a) => a.item_id === splitItem)!.cluster_id).toBe(newId);
    const titles = await app.db.selectFrom('clusters').select(['id', 'title']).where('id', 'in', [sso.clusterId, newId]).orderBy('id').execute();
    expect(titles).toEqual([
      { id: sso.clusterId, title: 'Okta SSO redirect loop after 2.4' },
      { id: newId, title: 'Okta follow-ups' },
    ]);
    expect(await app.db.selectFrom('clusters').select('id').where('id', '=', retention.clusterId).executeTakeFirst()).toBeUndefined();
  });
});
