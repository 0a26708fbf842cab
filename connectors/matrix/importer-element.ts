// Element (element-web) JSON room export importer, format `element-export` (PLATFORMS.md 3.7):
// `{room_name, room_creator, topic, export_date, exported_by, messages: [client events, oldest first]}`.
// The file is one JSON document, so it is read whole (Element exports are bounded by what a browser
// can hold). Relation events are folded into their targets, as the connector does: edits (latest by
// the original sender wins), reactions (distinct senders per key), redactions (the redacted event
// is exported stripped, or the redaction event names it). Malformed events are quarantined with
// their `file:messages[i]` location; the rest of the file is still read.
// Zipped exports (with attachments) are not read: unzip them and import `export.json`.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import type { QuarantineEntry } from '../../src/model/index.js';
import { MAX_JSON_DEPTH, shallowExcerpt, tooDeep } from '../json-depth.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ImportItem, type ImportOptions, type ImportPage, type Importer } from '../types.js';
import { bundledEdit, isRedacted, laterEdit, matrixEventSchema, MATRIX_NORMALIZER_VERSION, normalizeMatrix, redactsOf, relationOf, type MatrixEvent, type MatrixItem } from './normalize.js';

export const ELEMENT_EXPORT_FORMAT = 'element-export';
const DEFAULT_PAGE_SIZE = 500;
const EXCERPT_CHARS = 500;

const elementExportSchema = z.object({
  room_name: z.string(),
  room_creator: z.string().optional(),
  topic: z.string().optional(),
  export_date: z.string().optional(),
  exported_by: z.string().optional(),
  messages: z.array(z.unknown()),
});

/** Reads an Element export into pages of MatrixItems (relation events folded) and quarantine entries. */
export function foldElementExport(json: unknown, file: string, opts: { channel?: string; maxMessageBytes?: number } = {}): { items: ImportItem[]; quarantine: QuarantineEntry[] } {
  const quarantine: QuarantineEntry[] = [];
  const top = elementExportSchema.safeParse(json);
  if (!top.success) {
    const why = top.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ');
    quarantine.push({ location: `${file}:1`, reason: `not an Element JSON export: ${why}`, excerpt: safeExcerpt(json) });
    return { items: [], quarantine };
  }
  const { room_name: roomName, messages } = top.data;
  const maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;

  const events: Array<{ ev: MatrixEvent; index: number; payload: string }> = [];
  messages.forEach((raw, index) => {
    const location = `${file}:messages[${index}]`;
    // Checked before anything recurses into it (JSON.stringify below, zod, normalize).
    if (tooDeep(raw)) {
      quarantine.push({ location, reason: `event nested deeper than ${MAX_JSON_DEPTH} levels`, excerpt: shallowExcerpt(raw, EXCERPT_CHARS) });
      return;
    }
    const payload = JSON.stringify(raw) ?? '';
    if (Buffer.byteLength(payload) > maxBytes) {
      quarantine.push({ location, reason: `event larger than ${maxBytes} bytes`, excerpt: payload.slice(0, EXCERPT_CHARS) });
      return;
    }
    const parsed = matrixEventSchema.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ');
      quarantine.push({ location, reason: `malformed Matrix event: ${why}`, excerpt: payload.slice(0, EXCERPT_CHARS) });
      return;
    }
    events.push({ ev: parsed.data, index, payload });
  });

  const roomId = events.find((e) => e.ev.room_id)?.ev.room_id ?? opts.channel ?? roomName;
  const members = new Map<string, string>();
  const edits = new Map<string, MatrixEvent>();
  const reactions = new Map<string, Map<string, Set<string>>>();
  const redacted = new Set<string>();
  const senderOf = new Map<string, string>();
  const threadRoots = new Set<string>();
  for (const { ev } of events) {
    senderOf.set(ev.event_id, ev.sender);
    if (ev.type === 'm.room.member' && ev.state_key && typeof ev.content.displayname === 'string' && ev.content.displayname.trim()) {
      members.set(ev.state_key, ev.content.displayname);
    }
  }
  for (const { ev } of events) {
    const rel = relationOf(ev.content);
    if (rel.relType === 'm.thread' && rel.eventId) threadRoots.add(rel.eventId);
    if (ev.type === 'm.room.redaction') {
      const target = redactsOf(ev);
      if (target) redacted.add(target);
    } else if (ev.type === 'm.room.message' && rel.relType === 'm.replace' && rel.eventId && !isRedacted(ev)) {
      // Only the original sender may edit (spec); others' "edits" are ignored.
      if (senderOf.get(rel.eventId) === ev.sender) {
        const later = laterEdit(edits.get(rel.eventId), ev);
        if (later) edits.set(rel.eventId, later);
      }
    } else if (ev.type === 'm.reaction' && rel.relType === 'm.annotation' && rel.eventId && rel.key !== null && !isRedacted(ev)) {
      const byKey = reactions.get(rel.eventId) ?? new Map<string, Set<string>>();
      const senders = byKey.get(rel.key) ?? new Set<string>();
      senders.add(ev.sender);
      byKey.set(rel.key, senders);
      reactions.set(rel.eventId, byKey);
    }
  }
  // Reactions that were redacted (un-reacting) no longer count.
  for (const [target, byKey] of reactions) {
    for (const { ev } of events) {
      if (ev.type !== 'm.reaction' || !redacted.has(ev.event_id)) continue;
      const rel = relationOf(ev.content);
      if (rel.eventId === target && rel.key !== null) byKey.get(rel.key)?.delete(ev.sender);
    }
  }

  const present = new Set(events.map((e) => e.ev.event_id));
  const items: ImportItem[] = events.map(({ ev, index, payload }) => {
    const rel = relationOf(ev.content);
    const item: MatrixItem = { kind: 'matrix', roomId: ev.room_id ?? roomId, roomName, event: ev, senderName: members.get(ev.sender) ?? null };
    if (ev.type === 'm.reaction') {
      if (rel.eventId) item.foldedInto = rel.eventId;
    } else if (ev.type === 'm.room.redaction') {
      const target = redactsOf(ev);
      if (target && present.has(target)) item.foldedInto = target;
    } else if (ev.type === 'm.room.message' && rel.relType === 'm.replace' && rel.eventId) {
      // Folded when its original is in the file; otherwise it stands as an update of the original.
      if (present.has(rel.eventId)) item.foldedInto = rel.eventId;
    } else {
      if (threadRoots.has(ev.event_id)) item.threadRoot = true;
      const edit = laterEdit(edits.get(ev.event_id), bundledEdit(ev));
      if (edit) item.replacement = edit;
      const byKey = reactions.get(ev.event_id);
      if (byKey) {
        const counts: Record<string, number> = {};
        for (const [key, senders] of byKey) if (senders.size) counts[key] = senders.size;
        if (Object.keys(counts).length) item.reactions = counts;
      }
      if (redacted.has(ev.event_id) && !isRedacted(ev)) {
        // The export kept the content but also the redaction: serve it as the server would.
        item.event = { ...ev, content: {}, unsigned: { ...ev.unsigned, redacted_because: { type: 'm.room.redaction' } } };
      }
    }
    return { raw: item, location: `${file}:messages[${index}]`, payload };
  });
  return { items, quarantine };
}

function safeExcerpt(x: unknown): string {
  return shallowExcerpt(x, EXCERPT_CHARS);
}

export const elementExportImporter: Importer = {
  format: ELEMENT_EXPORT_FORMAT,
  platform: 'matrix',
  normalizerVersion: MATRIX_NORMALIZER_VERSION,
  detect(path: string, head: Buffer): boolean {
    if (!/\.json$/i.test(path)) return false;
    return /^\s*\{\s*"room_name"\s*:/.test(head.subarray(0, 4096).toString('utf8'));
  },
  async *read(path: string, opts: ImportOptions, signal?: AbortSignal): AsyncIterable<ImportPage> {
    const file = basename(path);
    const totalBytes = (await stat(path)).size;
    const text = await readFile(path, 'utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err: unknown) {
      yield { items: [], quarantine: [{ location: `${file}:1`, reason: `not valid JSON: ${(err as Error).message}`, excerpt: text.slice(0, EXCERPT_CHARS) }], bytesRead: totalBytes, totalBytes };
      return;
    }
    const { items, quarantine } = foldElementExport(json, file, { channel: opts.channel, maxMessageBytes: opts.maxMessageBytes });
    const pageSize = Math.max(1, opts.pageSize ?? DEFAULT_PAGE_SIZE);
    if (items.length === 0) {
      yield { items: [], quarantine, bytesRead: totalBytes, totalBytes };
      return;
    }
    for (let i = 0; i < items.length; i += pageSize) {
      if (signal?.aborted) return;
      const last = i + pageSize >= items.length;
      yield {
        items: items.slice(i, i + pageSize),
        quarantine: i === 0 ? quarantine : [],
        bytesRead: last ? totalBytes : Math.round((totalBytes * (i + pageSize)) / items.length),
        totalBytes,
      };
    }
  },
  normalize: normalizeMatrix,
};
