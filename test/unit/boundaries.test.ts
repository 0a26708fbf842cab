// The lint boundary rules (eslint.boundaries.js, run by `npm run lint`) fail on a deliberate violation
// of each floor, and pass the same files written the allowed way: linted as text at paths inside the
// areas each rule guards (syntax only, so no type information is needed).
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { boundaries, CONNECTOR_MESSAGE, PURE_CORE_MESSAGE, SQL_MESSAGE, STORE_PIPELINE_MESSAGE, STORE_PIPELINE_VIOLATORS } from '../../eslint.boundaries.js';

const eslint = new ESLint({
  cwd: process.cwd(),
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } }, ...boundaries],
});

async function messages(filePath: string, code: string): Promise<string[]> {
  const [r] = await eslint.lintText(code, { filePath });
  // ESLint puts what matched before the rule's message ("'kysely' import is restricted ... <message>").
  const ours = [PURE_CORE_MESSAGE, CONNECTOR_MESSAGE, SQL_MESSAGE, STORE_PIPELINE_MESSAGE];
  return r!.messages.map((m) => ours.find((o) => m.message.endsWith(o)) ?? m.message);
}

describe('lint boundaries', () => {
  it('the pure core (src/pipeline, src/model) imports no I/O and nothing outside model and pipeline', async () => {
    for (const [file, code] of [
      ['src/pipeline/violation.ts', "import { openDb } from '../store/db.js';\n"],
      ['src/pipeline/violation.ts', "import { readFileSync } from 'node:fs';\n"],
      ['src/pipeline/dedupe/violation.ts', "import { logger } from '../../log.js';\n"],
      ['src/model/violation.ts', "import type { Config } from '../config/index.js';\n"],
      ['src/pipeline/violation.ts', "import { Kysely } from 'kysely';\n"],
    ] as const)
      expect(await messages(file, code), `${file}: ${code}`).toEqual([PURE_CORE_MESSAGE]);
    for (const [file, code] of [
      ['src/pipeline/allowed.ts', "import { z } from 'zod';\nimport type { RawMessage } from '../model/index.js';\nimport { ownWords } from './own-words.js';\n"],
      ['src/pipeline/dedupe/allowed.ts', "import { sha } from '../hash.js';\nimport { x } from '../../model/index.js';\nimport { createHash } from 'node:crypto';\n"],
    ] as const)
      expect(await messages(file, code), `${file}: ${code}`).toEqual([]);
  });

  it('connectors import only src/model and their shared helpers, and build no queries', async () => {
    expect(await messages('connectors/slack/violation.ts', "import { openApp } from '../../src/app.js';\n")).toEqual([CONNECTOR_MESSAGE]);
    expect(await messages('connectors/slack/violation.ts', "import Database from 'better-sqlite3';\n")).toEqual([CONNECTOR_MESSAGE]);
    expect(await messages('connectors/slack/violation.ts', "export const q = (db: any) => db.selectFrom('messages');\n")).toEqual([SQL_MESSAGE]);
    expect(
      await messages(
        'connectors/slack/allowed.ts',
        "import type { RawMessage } from '../../src/model/index.js';\nimport { ConnectorError } from '../types.js';\nimport { WebClient } from '@slack/web-api';\n",
      ),
    ).toEqual([]);
  });

  it('SQL only in src/store: no database client and no query builder calls elsewhere', async () => {
    expect(await messages('src/web/violation.ts', "import { sql } from 'kysely';\n")).toEqual([SQL_MESSAGE]);
    expect(await messages('workers/violation.ts', "import pg from 'pg';\n")).toEqual([SQL_MESSAGE]);
    expect(await messages('src/digest/violation.ts', "export const n = (db: any) => db.deleteFrom('digests').execute();\n")).toEqual([SQL_MESSAGE]);
    expect(await messages('src/digest/allowed.ts', "import type { Kysely } from 'kysely';\nexport type Db = Kysely<object>;\n")).toEqual([]);
    expect(await messages('src/store/allowed.ts', "import { sql } from 'kysely';\nexport const q = (db: any) => db.selectFrom('messages');\n")).toEqual([]);
  });

  it('src/store imports no pipeline logic (types allowed), with no exceptions', async () => {
    expect(await messages('src/store/violation.ts', "import { segmentOf } from '../pipeline/people.js';\n")).toEqual([STORE_PIPELINE_MESSAGE]);
    expect(await messages('src/store/web/violation.ts', "import { ownWords } from '../../pipeline/own-words.js';\n")).toEqual([STORE_PIPELINE_MESSAGE]);
    expect(await messages('src/store/allowed.ts', "import type { Period } from '../pipeline/period.js';\n")).toEqual([]);
    expect(STORE_PIPELINE_VIOLATORS).toEqual([]);
    expect(await messages('src/store/ingest.ts', "import { ownWords } from '../pipeline/own-words.js';\nexport const w = ownWords;\n")).toEqual([STORE_PIPELINE_MESSAGE]);
  });
});
