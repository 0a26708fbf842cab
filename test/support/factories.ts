// Small builders for tests: normalized messages and a fresh store.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawMessage } from '../../src/model/index.js';
import { openDb, type OpenedDb } from '../../src/store/db.js';

export function tempDir(prefix = 'gleaner-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function freshStore(): Promise<OpenedDb> {
  return openDb(join(tempDir(), 'gleaner.db'));
}

let seq = 0;
export function msg(over: Partial<RawMessage> & { externalId?: string } = {}): RawMessage {
  seq++;
  return {
    externalId: over.externalId ?? `m${seq}`,
    channel: 'general',
    author: { id: 'U1', name: 'Ada' },
    text: `message ${seq}`,
    sentAt: Date.UTC(2024, 0, 10, 12, 0, seq % 60),
    ...over,
  };
}
