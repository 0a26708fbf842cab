// A small fake of a Discourse forum's JSON API on 127.0.0.1, port 0, for the Discourse connector (which
// talks to it with fetch, as to a real forum). Served as Discourse serves them:
// - GET /categories.json[?include_subcategories=true] -> { category_list: { categories: [...] } }, only
//   the categories the caller may see (a read_restricted category needs a key whose user is in `readers`);
// - GET /posts.json[?before=ID] -> { latest_posts: [...] } newest-first, at most `pageSize` (Discourse: 50),
//   ids strictly below `before`, only posts of visible categories, deleted posts left out;
// - GET /t/{id}.json -> the topic with post_stream.posts (the first 20) and post_stream.stream (every id);
//   404 for a deleted topic, 403 `invalid_access` for one in a category the caller may not see;
// - GET /t/{id}/posts.json?post_ids[]=... -> { post_stream: { posts } };
// - auth by `Api-Key` and `Api-Username` headers; a bad key: 403 { error_type: "invalid_access" }; no
//   key on a login-required forum: 403 `not_logged_in`;
// - 429 with Retry-After and { error_type: "rate_limit", extras: { wait_seconds } }; 500 on demand.
// Posts carry id, topic_id, post_number, username, name, created_at, updated_at, cooked, post_type,
// reply_to_post_number, version, actions_summary (likes, id 2), accepted_answer (discourse-solved),
// topic_slug, topic_title, category_id. Every request is recorded.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeControl } from '../contract/connector-contract.js';

export interface FakeCategory {
  id: number;
  name: string;
  slug: string;
  read_restricted?: boolean;
  /** Usernames allowed to read a restricted category. */
  readers?: string[];
}

export interface FakePost {
  id: number;
  topic_id: number;
  post_number: number;
  username: string;
  name: string;
  created_at: string;
  updated_at: string;
  cooked: string;
  post_type: number;
  reply_to_post_number: number | null;
  version: number;
  likes: number;
  deleted: boolean;
}

export interface FakeTopic {
  id: number;
  title: string;
  slug: string;
  category_id: number;
  tags: string[];
  accepted: number | null;
  deleted: boolean;
}

export interface FakeDiscourseOptions {
  pageSize?: number;
  apiKey?: string;
  /** Anonymous readers get 403 not_logged_in everywhere. */
  loginRequired?: boolean;
  now?: () => number;
}

export class FakeDiscourse implements FakeControl {
  readonly categories: FakeCategory[] = [{ id: 1, name: 'Feedback', slug: 'feedback' }];
  readonly topics = new Map<number, FakeTopic>();
  readonly posts: FakePost[] = [];
  readonly requests: Array<{ path: string; status: number; user: string | null }> = [];
  readonly apiKey: string;
  readonly pageSize: number;
  private nextPostId = 100;
  private nextTopicId = 10;
  private faults: Array<{ status: number; retryAfter?: number; match: RegExp; skip?: number }> = [];
  private revoked = false;
  private defaultTopic: number | null = null;
  private readonly now: () => number;
  private tick = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly opts: FakeDiscourseOptions,
  ) {
    this.apiKey = opts.apiKey ?? 'fake-discourse-key-0123456789';
    this.pageSize = opts.pageSize ?? 50;
    this.now = opts.now ?? (() => Date.UTC(2026, 9, 1) + this.tick++ * 60_000);
  }

  static async start(opts: FakeDiscourseOptions = {}): Promise<FakeDiscourse> {
    let fake: FakeDiscourse | null = null;
    const server = createServer((req, res) => fake!.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake = new FakeDiscourse(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts);
    return fake;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  addCategory(c: FakeCategory): FakeCategory {
    this.categories.push(c);
    return c;
  }

  addTopic(t: { title: string; category?: number; tags?: string[]; by?: string; text?: string; at?: number }): { topic: FakeTopic; first: FakePost } {
    const topic: FakeTopic = {
      id: this.nextTopicId++,
      title: t.title,
      slug:
        t.title
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') || 'topic',
      category_id: t.category ?? 1,
      tags: t.tags ?? [],
      accepted: null,
      deleted: false,
    };
    this.topics.set(topic.id, topic);
    const first = this.reply(topic.id, { by: t.by ?? 'ana', text: t.text ?? t.title, at: t.at });
    return { topic, first };
  }

  reply(topicId: number, r: { by: string; text: string; replyTo?: number; at?: number }): FakePost {
    const at = new Date(r.at ?? this.now()).toISOString();
    const n = this.posts.filter((p) => p.topic_id === topicId).length + 1;
    const post: FakePost = {
      id: this.nextPostId++,
      topic_id: topicId,
      post_number: n,
      username: r.by,
      name: r.by[0]!.toUpperCase() + r.by.slice(1),
      created_at: at,
      updated_at: at,
      cooked: `<p>${r.text}</p>`,
      post_type: 1,
      reply_to_post_number: r.replyTo ?? null,
      version: 1,
      likes: 0,
      deleted: false,
    };
    this.posts.push(post);
    return post;
  }

  edit(post: FakePost, text: string): void {
    post.cooked = `<p>${text}</p>`;
    post.version++;
    post.updated_at = new Date(this.now()).toISOString();
  }

  like(post: FakePost, n = 1): void {
    post.likes += n;
    post.updated_at = new Date(this.now()).toISOString();
  }

  accept(post: FakePost): void {
    this.topics.get(post.topic_id)!.accepted = post.post_number;
  }

  deletePost(post: FakePost): void {
    post.deleted = true;
  }

  deleteTopic(id: number): void {
    this.topics.get(id)!.deleted = true;
  }

  // ---- FakeControl ----

  addMessages(count: number, opts: { sameTimestamp?: boolean } = {}): string[] {
    if (this.defaultTopic === null) this.defaultTopic = this.addTopic({ title: 'Contract topic', text: 'first post of the contract topic' }).topic.id;
    const at = opts.sameTimestamp ? this.now() : undefined;
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const p = this.reply(this.defaultTopic, { by: `user${i % 3}`, text: `contract message ${this.posts.length}`, at });
      ids.push(`${p.topic_id}/${p.post_number}`);
    }
    return ids;
  }

  rateLimitNext(retryAfterSeconds: number, match: RegExp = /^\/posts\.json/): void {
    this.faults.push({ status: 429, retryAfter: retryAfterSeconds, match });
  }

  /** The matching requests after the next `after` ones answer `status`, `times` times. */
  failNext(status: number, times = 1, match: RegExp = /./, after = 0): void {
    for (let i = 0; i < times; i++) this.faults.push({ status, match, skip: after });
  }

  revokeAuth(): void {
    this.revoked = true;
  }

  // ---- serving ----

  private user(req: IncomingMessage): { name: string | null; bad: boolean } {
    const key = req.headers['api-key'];
    if (key === undefined) return { name: null, bad: false };
    if (this.revoked || key !== this.apiKey) return { name: null, bad: true };
    const u = req.headers['api-username'];
    return { name: typeof u === 'string' ? u : 'system', bad: false };
  }

  private canSee(cat: FakeCategory | undefined, user: string | null): boolean {
    if (!cat) return false;
    if (!cat.read_restricted) return true;
    return user !== null && (user === 'system' || (cat.readers ?? []).includes(user));
  }

  private serialize(p: FakePost): Record<string, unknown> {
    const t = this.topics.get(p.topic_id)!;
    return {
      id: p.id,
      name: p.name,
      username: p.username,
      avatar_template: `/user_avatar/${p.username}/{size}/1.png`,
      created_at: p.created_at,
      updated_at: p.updated_at,
      cooked: p.cooked,
      post_number: p.post_number,
      post_type: p.post_type,
      reply_count: 0,
      reply_to_post_number: p.reply_to_post_number,
      version: p.version,
      topic_id: p.topic_id,
      topic_slug: t.slug,
      topic_title: t.title,
      category_id: t.category_id,
      actions_summary: p.likes ? [{ id: 2, count: p.likes }] : [],
      accepted_answer: t.accepted === p.post_number,
      staff: false,
      hidden: false,
      user_deleted: false,
    };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const path = url.pathname;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ path: `${path}${url.search}`, status, user: this.user(req).name });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(body));
    };
    const matching = this.faults.filter((f) => f.match.test(path));
    const waiting = new Set(matching.filter((f) => f.skip));
    for (const f of waiting) f.skip!--;
    const fault = this.faults.findIndex((f) => f.match.test(path) && !waiting.has(f));
    if (fault >= 0) {
      const f = this.faults.splice(fault, 1)[0]!;
      if (f.status === 429)
        return send(
          429,
          {
            errors: ['You’ve performed this action too many times. Please wait a few seconds before trying again.'],
            error_type: 'rate_limit',
            extras: { wait_seconds: f.retryAfter, time_left: `${f.retryAfter} seconds` },
          },
          { 'retry-after': String(f.retryAfter) },
        );
      return send(f.status, { status: f.status, error: 'Internal Server Error' });
    }
    const who = this.user(req);
    if (who.bad) return send(403, { errors: ['You are not permitted to view the requested resource. The API username or key is invalid.'], error_type: 'invalid_access' });
    if (who.name === null && this.opts.loginRequired) return send(403, { errors: ['You need to be logged in to do that.'], error_type: 'not_logged_in' });
    const visible = (p: FakePost) => {
      const t = this.topics.get(p.topic_id);
      return (
        !!t &&
        !t.deleted &&
        !p.deleted &&
        this.canSee(
          this.categories.find((c) => c.id === t.category_id),
          who.name,
        )
      );
    };
    if (path === '/categories.json') {
      return send(200, {
        category_list: {
          can_create_category: false,
          categories: this.categories.filter((c) => this.canSee(c, who.name)).map((c) => ({ id: c.id, name: c.name, slug: c.slug, read_restricted: !!c.read_restricted, topic_count: 0 })),
        },
      });
    }
    if (path === '/posts.json') {
      const before = Number(url.searchParams.get('before') ?? Infinity);
      const list = this.posts
        .filter((p) => visible(p) && p.id < before)
        .sort((a, b) => b.id - a.id)
        .slice(0, this.pageSize);
      return send(200, { latest_posts: list.map((p) => this.serialize(p)) });
    }
    let m = /^\/t\/(\d+)\.json$/.exec(path);
    if (m) {
      const t = this.topics.get(Number(m[1]));
      if (!t || t.deleted) return send(404, { errors: ['The requested URL or resource could not be found.'], error_type: 'not_found' });
      if (
        !this.canSee(
          this.categories.find((c) => c.id === t.category_id),
          who.name,
        )
      )
        return send(403, { errors: ['You are not permitted to view the requested resource.'], error_type: 'invalid_access' });
      const posts = this.posts.filter((p) => p.topic_id === t.id && !p.deleted).sort((a, b) => a.post_number - b.post_number);
      return send(200, {
        id: t.id,
        title: t.title,
        fancy_title: t.title,
        slug: t.slug,
        category_id: t.category_id,
        tags: t.tags,
        posts_count: posts.length,
        accepted_answer: t.accepted ? { post_number: t.accepted, username: posts.find((p) => p.post_number === t.accepted)?.username ?? null } : null,
        post_stream: { posts: posts.slice(0, 20).map((p) => this.serialize(p)), stream: posts.map((p) => p.id) },
      });
    }
    m = /^\/t\/(\d+)\/posts\.json$/.exec(path);
    if (m) {
      const t = this.topics.get(Number(m[1]));
      if (!t || t.deleted) return send(404, { errors: ['The requested URL or resource could not be found.'], error_type: 'not_found' });
      const ids = new Set(url.searchParams.getAll('post_ids[]').map(Number));
      return send(200, { post_stream: { posts: this.posts.filter((p) => p.topic_id === t.id && ids.has(p.id) && !p.deleted).map((p) => this.serialize(p)) } });
    }
    send(404, { errors: ['The requested URL or resource could not be found.'], error_type: 'not_found' });
  }
}
