// The PostgreSQL side of suites that run on both stores: a database of the suite's own, emptied for
// every test (ids start at 1 again).
import { inject } from 'vitest';
import { openDb, type OpenedDb } from '../../src/store/db.js';
import { createTestDatabase, truncateAll, type TestDatabase } from './postgres.js';

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
