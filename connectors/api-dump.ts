// Importers for files of saved API answers (a Discourse forum's topics, a GitHub repository's issues and
// discussions): the file is one JSON document; the platform's reader turns it into items, each checked
// for depth and size here, bad ones quarantined with their location, the rest paged.
import { readFile, stat } from 'node:fs/promises';
import { MAX_JSON_DEPTH, shallowExcerpt, tooDeep } from './json-depth.js';
import type { NormalizeContext, Platform, QuarantineEntry, RawMessage, Skip } from '../src/model/index.js';
import { DEFAULT_MAX_ENTRY_BYTES, DEFAULT_MAX_MESSAGE_BYTES, type ImportItem, type ImportOptions, type ImportPage, type Importer } from './types.js';

const EXCERPT_CHARS = 500;
const DEFAULT_PAGE_SIZE = 500;

/** What a platform's reader gives for one dump: items (raw, location) or a reason the file is not its kind. */
export type DumpReading = { items: Array<{ raw: unknown; location: string; check?: unknown }>; quarantine: QuarantineEntry[] } | { notMine: string };

/** Whether a JSON file starts with `{"<key>":` (the dump's kind, its first key). */
export const headHasKey = (head: Buffer, key: string): boolean => new RegExp(`^\\uFEFF?\\s*\\{\\s*"${key}"\\s*:`).test(head.toString('utf8', 0, 256));

export async function* readApiDump(path: string, opts: ImportOptions, kind: string, read: (json: unknown, file: string) => DumpReading, signal?: AbortSignal): AsyncGenerator<ImportPage> {
  const size = (await stat(path)).size;
  const limit = opts.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  if (size > limit) {
    yield { items: [], quarantine: [{ location: path, reason: `${kind} file larger than ${limit} bytes; not read`, excerpt: '' }], bytesRead: size, totalBytes: size };
    return;
  }
  const text = await readFile(path, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    yield { items: [], quarantine: [{ location: `${path}:1`, reason: `not JSON: ${(err as Error).message}`, excerpt: text.slice(0, EXCERPT_CHARS) }], bytesRead: size, totalBytes: size };
    return;
  }
  const r = read(json, path);
  if ('notMine' in r) {
    yield { items: [], quarantine: [{ location: `${path}:1`, reason: `not a ${kind} file: ${r.notMine}`, excerpt: shallowExcerpt(json, EXCERPT_CHARS) }], bytesRead: size, totalBytes: size };
    return;
  }
  const maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const quarantine = [...r.quarantine];
  const items: ImportItem[] = [];
  for (const it of r.items) {
    const check = it.check ?? it.raw;
    if (tooDeep(check)) {
      quarantine.push({ location: it.location, reason: `item nested deeper than ${MAX_JSON_DEPTH} levels`, excerpt: shallowExcerpt(check, EXCERPT_CHARS) });
      continue;
    }
    const payload = JSON.stringify(it.raw) ?? '';
    if (Buffer.byteLength(payload) > maxBytes) {
      quarantine.push({ location: it.location, reason: `item larger than ${maxBytes} bytes`, excerpt: payload.slice(0, EXCERPT_CHARS) });
      continue;
    }
    items.push({ raw: it.raw, location: it.location, payload });
  }
  const pageSize = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  for (let i = 0; i < items.length || i === 0; i += pageSize) {
    if (signal?.aborted) return;
    const last = i + pageSize >= items.length;
    yield { items: items.slice(i, i + pageSize), quarantine: i === 0 ? quarantine : [], bytesRead: last ? size : Math.floor((size * (i + pageSize)) / Math.max(1, items.length)), totalBytes: size };
  }
}

/** A malformed entry of a dump, quarantined with its place and zod's reasons. */
export function malformedEntry(location: string, what: string, issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, raw: unknown): QuarantineEntry {
  return { location, reason: `malformed ${what}: ${issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ')}`, excerpt: JSON.stringify(raw)?.slice(0, EXCERPT_CHARS) ?? '' };
}

/** An importer for one kind of API dump: a `.json` file whose first key is `key`. */
export function apiDumpImporter(spec: {
  format: string;
  platform: Platform;
  key: string;
  kind: string;
  read: (json: unknown, file: string) => DumpReading;
  normalize: (raw: unknown, ctx: NormalizeContext) => RawMessage | Skip;
  normalizerVersion: number;
}): Importer {
  return {
    format: spec.format,
    platform: spec.platform,
    detect: (path, head) => path.endsWith('.json') && headHasKey(head, spec.key),
    read: (path, opts, signal) => readApiDump(path, opts, spec.kind, spec.read, signal),
    normalize: spec.normalize,
    normalizerVersion: spec.normalizerVersion,
  };
}
