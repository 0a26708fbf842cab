// Importer for a forum's topics saved from its JSON API: one file
//   { "discourse": "<forum base URL>", "categories": [<categories.json categories>], "topics": [<GET /t/{id}.json answers>] }
// (the answers as the forum sent them, all posts in post_stream.posts). Items are the connector's, so the
// same normalizer reads them; a malformed post or topic is quarantined with its place in the file.
import { z } from 'zod';
import type { QuarantineEntry } from '../../src/model/index.js';
import { apiDumpImporter, malformedEntry, type DumpReading } from '../api-dump.js';
import type { Importer } from '../types.js';
import { discoursePostSchema, DISCOURSE_NORMALIZER_VERSION, normalizeDiscourse, type DiscourseItem } from './normalize.js';

export const DISCOURSE_TOPICS_FORMAT = 'discourse-topics';

const dumpSchema = z.object({
  discourse: z.string().url(),
  categories: z.array(z.object({ id: z.number().int(), name: z.string(), slug: z.string() }).passthrough()).default([]),
  topics: z.array(z.unknown()),
});
const topicSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    slug: z.string().default('topic'),
    category_id: z.number().int().nullish(),
    tags: z.array(z.union([z.string(), z.object({ name: z.string() }).passthrough()])).default([]),
    accepted_answer: z.object({ post_number: z.number().int() }).passthrough().nullish(),
    post_stream: z.object({ posts: z.array(z.unknown()) }).passthrough(),
  })
  .passthrough();

export function readDiscourseDump(json: unknown, file: string): DumpReading {
  const top = dumpSchema.safeParse(json);
  if (!top.success) return { notMine: top.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ') };
  const cats = new Map(top.data.categories.map((c) => [c.id, { id: c.id, name: c.name, slug: c.slug }]));
  const items: Array<{ raw: unknown; location: string }> = [];
  const quarantine: QuarantineEntry[] = [];
  top.data.topics.forEach((t, ti) => {
    const r = topicSchema.safeParse(t);
    if (!r.success) {
      quarantine.push(malformedEntry(`${file}:topics[${ti}]`, 'topic', r.error.issues, t));
      return;
    }
    const topic = r.data;
    const accepted = topic.accepted_answer?.post_number ?? null;
    const tags = topic.tags.map((x) => (typeof x === 'string' ? x : x.name));
    topic.post_stream.posts.forEach((p, pi) => {
      const categoryId = topic.category_id ?? discoursePostSchema.safeParse(p).data?.category_id ?? null;
      const item: DiscourseItem = {
        kind: 'post',
        forum: top.data.discourse,
        post: p,
        topic: { id: topic.id, title: topic.title, slug: topic.slug, tags, acceptedPostNumber: accepted },
        category: categoryId == null ? null : (cats.get(categoryId) ?? null),
      };
      items.push({ raw: item, location: `${file}:topics[${ti}].post_stream.posts[${pi}]` });
    });
  });
  return { items, quarantine };
}

export const discourseTopicsImporter: Importer = apiDumpImporter({
  format: DISCOURSE_TOPICS_FORMAT,
  platform: 'discourse',
  key: 'discourse',
  kind: 'Discourse topics',
  read: readDiscourseDump,
  normalize: normalizeDiscourse,
  normalizerVersion: DISCOURSE_NORMALIZER_VERSION,
});
