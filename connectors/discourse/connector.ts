// Discourse connector: the forum's JSON API over fetch; live by polling.
//
// New posts come from /posts.json, the forum's feed of posts newest-first, paged with `before`: a pull
// reads it from the top down to the newest post id it read before (`high`), so a crash resumes below the
// oldest post already handed out and a catch-up reads only what is new. Each new post's topic is read
// once (/t/{id}.json) for its title, slug, tags and accepted answer. Discourse has no change feed, so the
// topics with a post in the last `recheckHours` are re-read every pull: a post whose fingerprint
// (revision, text, likes, accepted answer) changed is handed out again, one that is gone (or the whole
// topic, 404) is handed out as deleted. Categories: /categories.json maps ids to slugs; a configured slug
// the key cannot see, and a topic it may not read (403), are recorded as gaps.
import { createHash } from 'node:crypto';
import type { Connector, Gap, Page } from '../../src/model/index.js';
import { pollingLive, storedCursor } from '../polling.js';
import { ConnectorError, type ConnectorDeps } from '../types.js';
import type { DiscourseConfig } from './config.js';
import { emptyDiscourseCursor, parseDiscourseCursor, type DiscourseCursor, type WatchedTopic } from './cursor.js';
import { Aborted, DiscourseHttp, DiscourseStatusError } from './http.js';
import { discoursePostSchema, likeCount, normalizeDiscourse, type DiscourseItem, type DiscoursePost } from './normalize.js';

interface Category {
  id: number;
  name: string;
  slug: string;
  read_restricted?: boolean;
  subcategory_list?: Category[];
}
interface TopicJson {
  id: number;
  title?: string;
  slug?: string;
  category_id?: number | null;
  tags?: Array<string | { name?: string }>;
  accepted_answer?: { post_number?: number } | null;
  post_stream?: { posts?: unknown[]; stream?: number[] };
}
type TopicInfo = { id: number; title: string; slug: string; tags: string[]; acceptedPostNumber: number | null; categoryId: number | null };

/** Topics (with their posts) kept in memory during one pull. */
const TOPIC_CACHE = 200;
/** Posts per /t/{id}/posts.json request for the rest of a long topic. */
const POSTS_PER_REQUEST = 50;

/** A short digest for change detection, not security. */
const digest = (s: string): string => createHash('sha1').update(s).digest('hex').slice(0, 12);

/** What makes a re-read post worth handing out again. */
export function postFingerprint(p: DiscoursePost, accepted: boolean): string {
  return digest(JSON.stringify([p.version ?? 1, p.cooked ?? p.raw ?? '', likeCount(p), accepted || p.accepted_answer === true, Boolean(p.deleted_at || p.user_deleted), Boolean(p.hidden)]));
}

const topicTags = (t: TopicJson): string[] => (t.tags ?? []).map((x) => (typeof x === 'string' ? x : (x.name ?? ''))).filter(Boolean);

export function createDiscourseConnector(cfg: DiscourseConfig, deps: ConnectorDeps): Connector<DiscourseCursor> {
  const http = new DiscourseHttp(cfg, deps);
  const forum = cfg.url.replace(/\/+$/, '');
  /** Category ids -> categories, from the latest /categories.json. */
  let categories = new Map<number, Category>();
  const category = (id: number | null | undefined): DiscourseItem['category'] => {
    const c = id == null ? undefined : categories.get(id);
    return c ? { id: c.id, name: c.name, slug: c.slug } : null;
  };
  const itemOf = (p: DiscoursePost, info: TopicInfo): DiscourseItem => ({
    kind: 'post',
    forum,
    post: p,
    topic: { id: info.id, title: info.title, slug: info.slug, tags: info.tags, acceptedPostNumber: info.acceptedPostNumber },
    category: category(info.categoryId ?? p.category_id),
  });
  const deletedItem = (topicId: number, postNumber: number, w: WatchedTopic): DiscourseItem => ({ kind: 'deleted', forum, topicId, postNumber, at: deps.now(), category: category(w.category) });

  async function loadCategories(signal: AbortSignal): Promise<{ byId: Map<number, Category>; allowed: Set<number> | null; gaps: Gap[] }> {
    const res = await http.get<{ category_list?: { categories?: Category[] } }>('/categories.json?include_subcategories=true', signal);
    const byId = new Map<number, Category>();
    const walk = (cs: Category[] | undefined) => {
      for (const c of cs ?? []) {
        if (typeof c.id !== 'number' || typeof c.slug !== 'string') continue;
        byId.set(c.id, c);
        walk(c.subcategory_list);
      }
    };
    walk(res.category_list?.categories);
    if (!cfg.categories.length) return { byId, allowed: null, gaps: [] };
    const allowed = new Set<number>();
    const gaps: Gap[] = [];
    for (const slug of cfg.categories) {
      const c = [...byId.values()].find((x) => x.slug === slug);
      if (c) allowed.add(c.id);
      else
        gaps.push({
          channel: slug,
          from: 0,
          to: null,
          reason: `category ${slug} is not visible to ${cfg.apiKey ? `the API key (user ${cfg.apiUsername ?? 'system'})` : 'anonymous readers'}: private, or no such slug`,
        });
    }
    return { byId, allowed, gaps };
  }

  /** A topic with all its posts (the first page from /t/{id}.json, the rest by id). */
  async function readTopic(id: number, signal: AbortSignal): Promise<{ info: TopicInfo; posts: DiscoursePost[] }> {
    const t = await http.get<TopicJson>(`/t/${id}.json`, signal);
    const posts: unknown[] = [...(t.post_stream?.posts ?? [])];
    const have = new Set(posts.map((p) => (p as { id?: unknown }).id));
    const missing = (t.post_stream?.stream ?? []).filter((pid) => !have.has(pid));
    for (let i = 0; i < missing.length; i += POSTS_PER_REQUEST) {
      const q = missing
        .slice(i, i + POSTS_PER_REQUEST)
        .map((pid) => `post_ids[]=${pid}`)
        .join('&');
      const more = await http.get<{ post_stream?: { posts?: unknown[] } }>(`/t/${id}/posts.json?${q}`, signal);
      posts.push(...(more.post_stream?.posts ?? []));
    }
    const good: DiscoursePost[] = [];
    for (const p of posts) {
      const r = discoursePostSchema.safeParse(p);
      if (r.success) good.push(r.data);
    }
    const info: TopicInfo = {
      id,
      title: t.title ?? '',
      slug: t.slug ?? 'topic',
      tags: topicTags(t),
      acceptedPostNumber: t.accepted_answer?.post_number ?? good.find((p) => p.accepted_answer)?.post_number ?? null,
      categoryId: t.category_id ?? null,
    };
    return { info, posts: good };
  }

  async function* history(from: DiscourseCursor | undefined, signal: AbortSignal): AsyncGenerator<Page<DiscourseCursor>> {
    const cur = storedCursor(from, parseDiscourseCursor, emptyDiscourseCursor, 'Discourse', deps.source);
    const snapshot = (): DiscourseCursor => structuredClone(cur);
    const topics = new Map<number, { info: TopicInfo; posts: DiscoursePost[] } | 'gap'>();
    const nowMs = deps.now();
    const recheckFrom = cfg.recheckHours > 0 ? nowMs - cfg.recheckHours * 3600_000 : null;
    try {
      const { byId, allowed, gaps } = await loadCategories(signal);
      categories = byId;
      if (gaps.length) yield { items: [], cursor: snapshot(), gaps, rateLimitedMs: http.takeRateLimited() };
      const wanted = (categoryId: number | null | undefined) => allowed === null || (categoryId != null && allowed.has(categoryId));
      const topicGap = (id: number, err: DiscourseStatusError, categoryId: number | null | undefined): Gap => ({
        channel: category(categoryId)?.slug ?? null,
        from: 0,
        to: null,
        reason: `topic ${id} cannot be read (HTTP ${err.status}${err.errorType ? `, ${err.errorType}` : ''}): a private category or a removed topic`,
      });
      const remember = (p: DiscoursePost, info: TopicInfo) => {
        const at = Date.parse(p.created_at);
        const w = (cur.topics[String(info.id)] ??= { at, posts: {} });
        w.at = Math.max(w.at, Number.isFinite(at) ? at : 0);
        w.category = info.categoryId ?? p.category_id ?? null;
        w.posts[String(p.post_number)] = postFingerprint(p, info.acceptedPostNumber === p.post_number);
      };

      // 1. New posts: the feed from the top down to `high`.
      const p = (cur.pending ??= { top: null, before: null });
      for (;;) {
        const res = await http.get<{ latest_posts?: unknown[] }>(`/posts.json${p.before !== null ? `?before=${p.before}` : ''}`, signal);
        const raw = res.latest_posts ?? [];
        const posts: DiscoursePost[] = [];
        const items: unknown[] = [];
        for (const x of raw) {
          const r = discoursePostSchema.safeParse(x);
          if (r.success) posts.push(r.data);
          else items.push({ kind: 'post', forum, post: x, topic: { id: 0, title: '', slug: '', tags: [], acceptedPostNumber: null }, category: null }); // quarantined by normalize
        }
        // `before` is exclusive on some versions and inclusive on others: keep strictly below it.
        const page = posts.filter((x) => p.before === null || x.id < p.before).sort((a, b) => b.id - a.id);
        const fresh = page.filter((x) => cur.high === null || x.id > cur.high);
        const gapsHere: Gap[] = [];
        for (const post of fresh) {
          if (!wanted(post.category_id)) continue;
          let t = topics.get(post.topic_id);
          if (t === undefined) {
            try {
              t = await readTopic(post.topic_id, signal);
            } catch (err: unknown) {
              if (!(err instanceof DiscourseStatusError)) throw err;
              t = 'gap';
              gapsHere.push(topicGap(post.topic_id, err, post.category_id));
            }
            topics.set(post.topic_id, t);
            // A long backfill meets every topic: keep the latest few in memory (a re-read costs a request).
            if (topics.size > TOPIC_CACHE) topics.delete(topics.keys().next().value!);
          }
          if (t === 'gap') continue;
          // The topic's copy of the post (with likes and revision) when it has one.
          const full = t.posts.find((x) => x.id === post.id) ?? post;
          if (!wanted(t.info.categoryId ?? post.category_id)) continue;
          items.push(itemOf(full, t.info));
          remember(full, t.info);
        }
        if (page[0]) p.top = Math.max(p.top ?? 0, page[0].id);
        const last = page[page.length - 1];
        const done = !last || fresh.length < page.length || raw.length === 0;
        if (last) p.before = last.id;
        if (done) {
          cur.high = Math.max(cur.high ?? 0, p.top ?? 0) || cur.high;
          delete cur.pending;
        }
        yield { items, cursor: snapshot(), ...(gapsHere.length ? { gaps: gapsHere } : {}), rateLimitedMs: http.takeRateLimited() };
        if (done) break;
      }

      // 2. Recently active topics again: edits, likes, answers, deletions.
      const watched = Object.entries(cur.topics).sort((a, b) => b[1].at - a[1].at);
      for (const [key] of watched.slice(cfg.maxWatchedTopics)) delete cur.topics[key];
      for (const [key, w] of watched.slice(0, cfg.maxWatchedTopics)) {
        if (recheckFrom === null || w.at < recheckFrom) {
          delete cur.topics[key];
          continue;
        }
        const id = Number(key);
        const { items, drop } = await recheckTopic(id, w, topics.get(id), signal);
        if (drop) delete cur.topics[key];
        if (!items.length && !drop) continue;
        yield { items, cursor: snapshot(), rateLimitedMs: http.takeRateLimited() };
      }
      if (recheckFrom === null) cur.topics = {};
    } catch (err: unknown) {
      if (err instanceof Aborted) return;
      if (err instanceof DiscourseStatusError) throw new ConnectorError('bad_data', err.message, deps.source, { cause: err });
      throw err;
    }
  }

  /**
   * One watched topic re-read: changed posts and deletions as items (updating `w`); `drop` when the
   * topic is gone (its posts handed out as deleted) or may no longer be read.
   */
  async function recheckTopic(id: number, w: WatchedTopic, known: { info: TopicInfo; posts: DiscoursePost[] } | 'gap' | undefined, signal: AbortSignal): Promise<{ items: unknown[]; drop: boolean }> {
    let t = known;
    if (t === undefined) {
      try {
        t = await readTopic(id, signal);
      } catch (err: unknown) {
        if (!(err instanceof DiscourseStatusError)) throw err;
        if (err.status !== 404 && err.status !== 410) {
          deps.log('warn', `topic ${id} can no longer be read (HTTP ${err.status}); no longer watched`, { topic: id });
          return { items: [], drop: true };
        }
        // The whole topic was deleted: every post we handed out goes.
        return { items: Object.keys(w.posts).map((n) => deletedItem(id, Number(n), w)), drop: true };
      }
    }
    if (t === 'gap') return { items: [], drop: true };
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const p of t.posts) {
      const n = String(p.post_number);
      seen.add(n);
      const prev = w.posts[n];
      if (prev === undefined) continue; // not handed out by us (older than the window): the feed's business
      if (prev !== postFingerprint(p, t.info.acceptedPostNumber === p.post_number)) {
        out.push(itemOf(p, t.info));
        w.posts[n] = postFingerprint(p, t.info.acceptedPostNumber === p.post_number);
      }
    }
    for (const n of Object.keys(w.posts)) {
      if (seen.has(n)) continue;
      out.push(deletedItem(id, Number(n), w));
      delete w.posts[n];
    }
    return { items: out, drop: false };
  }

  return {
    platform: 'discourse',
    capabilities: { history: true, live: true, edits: true, threads: true },
    history,
    live: pollingLive(history, deps, cfg.pollIntervalSeconds * 1000),
    normalize: normalizeDiscourse,
  };
}
