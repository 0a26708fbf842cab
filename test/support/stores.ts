// The two sides of suites that run on both stores: a fresh SQLite file per test, and on PostgreSQL a
// database of the suite's own, emptied for every test (ids start at 1 again).
import { inject } from 'vitest';
import { openDb, type DbKind, type OpenedDb } from '../../src/store/db.js';
import { createTestDatabase, truncateAll, type TestDatabase } from './postgres.js';
import { freshStore } from './factories.js';

export interface SuiteStore {
  beforeAll(): Promise<void>;
  /** A store with no rows (ids start at 1); closing it is the suite's business. */
  fresh(): Promise<OpenedDb>;
  afterAll(): Promise<void>;
}

export function postgresSuiteStore(): SuiteStore {
  let database: TestDatabase | undefined;
  let opened: OpenedDb | undefined;
  return {
    async beforeAll() {
      database = await createTestDatabase(inject('pgUrl'));
      opened = await openDb(database.url, { poolSize: 4 });
    },
    async fresh() {
      await truncateAll(database!.url);
      return { ...opened!, close: async () => {} };
    },
    async afterAll() {
      await opened?.close();
      await database?.drop();
    },
  };
}

/** A fresh SQLite file per test, all closed after the suite. */
export function sqliteSuiteStore(): SuiteStore {
  const opened: OpenedDb[] = [];
  return {
    beforeAll: async () => {},
    async fresh() {
      const s = await freshStore();
      opened.push(s);
      return s;
    },
    async afterAll() {
      for (const s of opened) await s.close();
    },
  };
}

/** Both stores, for `describe.each`. */
export const suiteDialects: Array<[DbKind, () => SuiteStore]> = [
  ['sqlite', sqliteSuiteStore],
  ['postgres', postgresSuiteStore],
];
