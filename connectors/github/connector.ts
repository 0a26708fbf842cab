// GitHub connector: per configured repository, Issues and their comments over REST (issues.ts) and
// Discussions over GraphQL (discussions.ts), each resumable from the cursor; live by polling. A repository
// the token cannot read (404, 403) is a gap, the others go on; a refused token (401) stops the source.
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { pollingLive, storedCursor } from '../polling.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import { Aborted, GithubClient, RepoAccessError, type GithubClientOptions } from './client.js';
import type { GithubConfig } from './config.js';
import { emptyGithubCursor, emptyRepoState, parseGithubCursor, type GithubCursor, type RepoState } from './cursor.js';
import { recheckIssues } from './recheck.js';
import { pullDiscussions } from './discussions.js';
import { profileEmails, pullIssues, type StreamPage } from './issues.js';
import { normalizeGithub } from './normalize.js';

export function createGithubConnector(cfg: GithubConfig, deps: ConnectorDeps, opts: GithubClientOptions = {}): Connector<GithubCursor> {
  const client = new GithubClient(cfg, deps, opts);
  const emailOf = profileEmails(client, cfg.profileEmails);
  const configSince = cfg.since === undefined ? undefined : new Date(cfg.since).toISOString().replace('.000Z', 'Z');

  /** Deleted issue comments of the active issues (recheck.ts), as stream pages. */
  async function* recheckStream(repo: string, st: RepoState, nowMs: number): AsyncGenerator<StreamPage> {
    const fromMs = cfg.recheckHours > 0 ? nowMs - cfg.recheckHours * 3600_000 : null;
    for await (const items of recheckIssues(client, repo, st, fromMs, nowMs)) yield { items };
  }

  async function* history(from: GithubCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<GithubCursor>> {
    const cur = storedCursor(from, parseGithubCursor, emptyGithubCursor, 'GitHub', deps.source);
    client.signal = signal;
    const snapshot = (): GithubCursor => structuredClone(cur);
    const warn = (msg: string) => deps.log('warn', msg);
    const nowMs = deps.now();
    try {
      for (const repo of cfg.repos) {
        const st = (cur.repos[repo] ??= emptyRepoState());
        const streams: Array<{ kind: 'issues' | 'discussions'; run: () => AsyncGenerator<StreamPage> }> = [];
        if (cfg.issues) streams.push({ kind: 'issues', run: () => pullIssues(client, repo, st, cfg.pageSize, configSince, emailOf) });
        if (cfg.discussions) streams.push({ kind: 'discussions', run: () => pullDiscussions(client, repo, st, cfg.pageSize, cfg.maxDiscussionComments, nowMs, warn) });
        // Always: it also forgets discussions older than the window; it lists comments of active issues only.
        streams.push({ kind: 'issues', run: () => recheckStream(repo, st, nowMs) });
        for (const s of streams) {
          try {
            for await (const page of s.run()) yield { items: page.items, cursor: snapshot(), ...(page.gaps?.length ? { gaps: page.gaps } : {}), rateLimitedMs: client.takeRateLimited() };
          } catch (err: unknown) {
            const access =
              err instanceof RepoAccessError ? err : (err as { status?: number }).status === 404 && !(err instanceof ConnectorError) ? new RepoAccessError(404, (err as Error).message) : null;
            if (!access) throw err;
            // This repository's stream only: a gap; an unfinished discussions window is read again next time.
            if (s.kind === 'discussions') delete st.discussions.pending;
            const gap: Gap = { channel: `${repo}/${s.kind}`, from: 0, to: null, reason: `cannot read ${repo} ${s.kind}: ${access.message}` };
            deps.log('warn', `repository skipped: ${gap.reason}`, { repo });
            yield { items: [], cursor: snapshot(), gaps: [gap], rateLimitedMs: client.takeRateLimited() };
          }
        }
      }
    } catch (err: unknown) {
      if (err instanceof Aborted || signal.aborted) return;
      throw err;
    }
  }

  return {
    platform: 'github',
    capabilities: { history: true, live: true, edits: true, threads: true },
    history,
    live: pollingLive(history, deps, cfg.pollIntervalSeconds * 1000),
    normalize: normalizeGithub,
  };
}
