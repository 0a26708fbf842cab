// Runs configured sources: `pull` backfills and catches up through history(); `listen` runs live().
// The page's messages, raw items and new cursor go to ingest together (one transaction in-process;
// one job on BullMQ). Auth and config errors stop only that source, with a clear message.
import type { App } from '../app.js';
import { definitions } from '../../connectors/index.js';
import { abortableSleep, ConnectorError, type ConnectorDeps } from '../../connectors/types.js';
import type { SourceConfig } from '../config/index.js';
import { redact, redactSecretValues, secretValues } from '../config/index.js';
import type { Connector, Page } from '../model/index.js';
import { ensureSource, getCheckpoint, markSourcePulled } from '../store/queries.js';
import type { IngestPayload } from '../stages/ingest.js';
import { stageRunner, type PageTurns } from './stage-runner.js';
import { normalizeItems } from './batch.js';
import { recordSourceEvent } from '../store/digests.js';

export const CURSOR_KEY = 'cursor';

export interface SourceRunResult {
  source: string;
  pages: number;
  messages: number;
  skipped: Record<string, number>;
  quarantined: number;
  gaps: number;
  rateLimitedMs: number;
  error: string | null;
}

export function makeConnector(app: App, cfg: SourceConfig): { connector: Connector<unknown>; secretKeys: string[] } {
  const def = definitions[cfg.platform];
  if (!def) throw new ConnectorError('config', `no connector for platform ${cfg.platform} in this build`, cfg.name);
  // The connector's schema is strict: the keys every source has are not its to know.
  const { name: _name, platform: _platform, enabled: _enabled, public: _public, ...own } = cfg;
  const parsed = def.configSchema.safeParse(own);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new ConnectorError('config', `invalid source config: ${why}`, cfg.name);
  }
  const log = app.log.child({ source: cfg.name, platform: cfg.platform });
  const deps: ConnectorDeps = {
    source: cfg.name,
    now: app.ctx.now,
    sleep: abortableSleep,
    log: (level, msg, fields) => log[level](redact(fields ?? {}, def.secretKeys), msg),
  };
  return { connector: def.create(parsed.data, deps), secretKeys: def.secretKeys };
}

/**
 * A source's error as stored and shown: without the configured secret values, which an upstream error
 * may echo (a Discord 401 quoting the bot token).
 */
function errorText(app: App, cfg: SourceConfig, err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return redactSecretValues(text, secretValues({ config: app.config, more: cfg }, process.env, definitions[cfg.platform]?.secretKeys ?? []));
}

async function consume(app: App, cfg: SourceConfig, pages: AsyncIterable<Page<unknown>>, connector: Connector<unknown>, sourceId: number, result: SourceRunResult): Promise<void> {
  // Each page is stored while the next is fetched and normalized (in-process, its chat lines linked
  // on a helper thread meanwhile); a page is stored before the one after it, with its cursor.
  const turns = stageRunner(app).turns();
  try {
    await consumeInTurn(app, cfg, pages, connector, sourceId, result, turns);
  } catch (err: unknown) {
    // The page already read is stored all the same: the next pull goes on after it.
    await turns.end().catch((e: unknown) => app.ctx.log.warn({ source: cfg.name, err: e instanceof Error ? e.message : String(e) }, 'storing a page failed'));
    throw err;
  }
  await turns.end();
}

async function consumeInTurn(
  app: App,
  cfg: SourceConfig,
  pages: AsyncIterable<Page<unknown>>,
  connector: Connector<unknown>,
  sourceId: number,
  result: SourceRunResult,
  turns: PageTurns,
): Promise<void> {
  for await (const page of pages) {
    const batch = await normalizeItems(
      (raw, ctx) => connector.normalize(raw, ctx),
      page.items.map((raw, i) => ({ raw, location: `${cfg.name} page ${result.pages + 1} item ${i + 1}` })),
      { source: cfg.name },
    );
    for (const [k, v] of Object.entries(batch.skipped)) result.skipped[k] = (result.skipped[k] ?? 0) + v;
    const payload: IngestPayload = {
      sourceId,
      platform: cfg.platform,
      messages: batch.messages,
      raw: batch.raw,
      normalizerVersion: 1,
      cursor: { key: CURSOR_KEY, value: JSON.stringify(page.cursor) },
      quarantine: batch.quarantine,
      gaps: page.gaps,
    };
    result.pages++;
    result.messages += batch.messages.length;
    result.quarantined += batch.quarantine.length;
    result.gaps += page.gaps?.length ?? 0;
    result.rateLimitedMs += page.rateLimitedMs ?? 0;
    if (page.rateLimitedMs) await recordSourceEvent(app.db, { sourceId, kind: 'rate_limited', at: app.ctx.now(), durationMs: page.rateLimitedMs });
    await turns.put(payload);
  }
}

async function savedCursor(app: App, sourceId: number): Promise<unknown> {
  const raw = await getCheckpoint(app.db, sourceId, CURSOR_KEY);
  return raw == null ? undefined : (JSON.parse(raw) as unknown);
}

/** Backfill and catch up one source from its saved cursor. */
export async function pullSource(app: App, cfg: SourceConfig, signal: AbortSignal): Promise<SourceRunResult> {
  const result: SourceRunResult = { source: cfg.name, pages: 0, messages: 0, skipped: {}, quarantined: 0, gaps: 0, rateLimitedMs: 0, error: null };
  const sourceId = await ensureSource(app.db, cfg.name, cfg.platform, app.ctx.now());
  try {
    const { connector } = makeConnector(app, cfg);
    await consume(app, cfg, connector.history(await savedCursor(app, sourceId), signal), connector, sourceId, result);
    await markSourcePulled(app.db, sourceId, app.ctx.now(), null);
  } catch (err: unknown) {
    result.error = errorText(app, cfg, err);
    await markSourcePulled(app.db, sourceId, app.ctx.now(), result.error);
    await recordSourceEvent(app.db, { sourceId, kind: 'pull_failed', at: app.ctx.now(), detail: result.error });
  }
  return result;
}

/**
 * Runs one source's live side until the signal aborts. Network failures reconnect with backoff
 * (per source, capped); auth and config errors stop this source and are recorded.
 */
export async function listenSource(app: App, cfg: SourceConfig, signal: AbortSignal, opts: { maxBackoffMs?: number } = {}): Promise<SourceRunResult> {
  const result: SourceRunResult = { source: cfg.name, pages: 0, messages: 0, skipped: {}, quarantined: 0, gaps: 0, rateLimitedMs: 0, error: null };
  const sourceId = await ensureSource(app.db, cfg.name, cfg.platform, app.ctx.now());
  let backoff = 1000;
  while (!signal.aborted) {
    try {
      const { connector } = makeConnector(app, cfg);
      const pages = connector.live ? connector.live(await savedCursor(app, sourceId), signal) : connector.history(await savedCursor(app, sourceId), signal);
      await consume(app, cfg, pages, connector, sourceId, result);
      await markSourcePulled(app.db, sourceId, app.ctx.now(), null);
      if (!connector.live) {
        // No live side: poll history.
        if (!(await abortableSleep(60_000, signal))) break;
      }
      backoff = 1000;
    } catch (err: unknown) {
      const msg = errorText(app, cfg, err);
      await markSourcePulled(app.db, sourceId, app.ctx.now(), msg);
      await recordSourceEvent(app.db, { sourceId, kind: 'pull_failed', at: app.ctx.now(), detail: msg });
      if (err instanceof ConnectorError && (err.kind === 'auth' || err.kind === 'config')) {
        result.error = msg;
        app.log.error({ source: cfg.name }, `source stopped: ${msg}`);
        return result;
      }
      app.log.warn({ source: cfg.name, backoffMs: backoff }, `source failed, reconnecting: ${msg}`);
      if (!(await abortableSleep(backoff, signal))) break;
      backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 5 * 60_000);
    }
  }
  return result;
}
