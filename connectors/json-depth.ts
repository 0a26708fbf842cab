// Nesting limits for JSON read from export files. JSON.parse reads any depth, but JSON.stringify, zod,
// structured clone and most code that walks a value recurse: one value nested a few thousand levels deep
// (10 KB of `[[[[…`) overflows the stack far from the importer, outside any try/catch, and aborts the
// whole import. The importers check each message's depth once, without recursion, and quarantine the
// deep ones; past that point every value is shallow enough for any recursive code.

/** Deepest nesting accepted in one exported message (real Slack blocks, Matrix events and DCE messages stay under 20). */
export const MAX_JSON_DEPTH = 100;

/** The nesting depth of `value` (a scalar is 0, `[]` and `{}` are 1), counted up to `limit + 1`; no recursion. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let deepest = 0;
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length) {
    const { v, d } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    const depth = d + 1;
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v as Record<string, unknown>)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, d: depth });
    }
  }
  return deepest;
}

/** Whether `value` nests deeper than `limit` levels. */
export function tooDeep(value: unknown, limit = MAX_JSON_DEPTH): boolean {
  return jsonDepth(value, limit) > limit;
}

/** A short excerpt of any value, deep or not: levels past the tenth are shown as `…` (bounded recursion). */
export function shallowExcerpt(value: unknown, maxChars = 500): string {
  let out = '';
  const write = (v: unknown, level: number): void => {
    if (out.length > maxChars) return;
    if (v === null || typeof v !== 'object') {
      out += typeof v === 'string' ? JSON.stringify(v.length > maxChars ? v.slice(0, maxChars) : v) : String(v);
      return;
    }
    if (level >= 10) {
      out += '…';
      return;
    }
    if (Array.isArray(v)) {
      out += '[';
      v.slice(0, 20).forEach((x, i) => {
        if (i) out += ',';
        write(x, level + 1);
      });
      out += ']';
      return;
    }
    out += '{';
    Object.entries(v as Record<string, unknown>)
      .slice(0, 20)
      .forEach(([k, x], i) => {
        out += `${i ? ',' : ''}${JSON.stringify(k)}:`;
        write(x, level + 1);
      });
    out += '}';
  };
  write(value, 0);
  return out.slice(0, maxChars);
}
