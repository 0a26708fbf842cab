// The import floors of ../shared/DESIGN.md as lint rules (eslint.config.js uses them; the test
// test/unit/boundaries.test.ts lints a deliberate violation of each and expects the rule's message):
// - src/model and src/pipeline import only each other (and pure libraries): no I/O, no store, no queue;
// - connectors import only src/model and their own shared helpers in connectors/;
// - SQL only in src/store: nothing else imports a database client or builds a query;
// - src/store does not import pipeline logic (types are fine): the store applies plans, it does not
//   make them (issue 19; the current violators are listed below until the stages are read/plan/apply).

const IO_MODULES = [
  'node:fs',
  'node:fs/promises',
  'node:net',
  'node:http',
  'node:https',
  'node:child_process',
  'node:worker_threads',
  'fs',
  'net',
  'http',
  'https',
  'child_process',
  'worker_threads',
  'kysely',
  'pg',
  'better-sqlite3',
  'bullmq',
  'ioredis',
  'fastify',
  'pino',
  'nodemailer',
  'imapflow',
];
const DB_MODULES = ['kysely', 'pg', 'better-sqlite3'];

export const PURE_CORE_MESSAGE = 'src/model and src/pipeline are the pure core: they import only src/model, src/pipeline and pure libraries (DESIGN.md), no I/O.';
export const CONNECTOR_MESSAGE = 'connectors import only src/model and their shared helpers in connectors/ (DESIGN.md).';
export const SQL_MESSAGE = 'SQL only in src/store: query the database through a store module (DESIGN.md).';
export const STORE_PIPELINE_MESSAGE = 'src/store does not import pipeline logic: a pure function in src/pipeline makes the plan, the store applies it (issue 19). Type imports are allowed.';

/** Store modules allowed to import pipeline values: none (every stage reads, plans in src/pipeline, and applies). */
export const STORE_PIPELINE_VIOLATORS = [];

const queryCalls = {
  selector: 'CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)$/]',
  message: SQL_MESSAGE,
};

function pureCore(files, regexes) {
  return {
    files,
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: IO_MODULES.map((name) => ({ name, message: PURE_CORE_MESSAGE })),
          patterns: regexes.map((regex) => ({ regex, message: PURE_CORE_MESSAGE })),
        },
      ],
    },
  };
}

/** Flat-config entries; each needs the TypeScript parser (given by the caller). */
export const boundaries = [
  pureCore(
    ['src/pipeline/*.ts', 'src/model/*.ts'],
    [
      // From src/pipeline/x.ts or src/model/x.ts: ../model/ and ../pipeline/ only.
      '^\\.\\./(?!model/|pipeline/)',
    ],
  ),
  pureCore(
    ['src/pipeline/*/**/*.ts'],
    [
      // From src/pipeline/sub/x.ts: ../ stays in the pipeline; ../../ reaches model/ and pipeline/ only.
      '^\\.\\./\\.\\./(?!model/|pipeline/)',
      '^(\\.\\./){3,}',
    ],
  ),
  {
    files: ['connectors/**/*.ts'],
    ignores: ['**/*.test.ts', 'connectors/**/fixtures/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: DB_MODULES.map((name) => ({ name, message: CONNECTOR_MESSAGE })),
          patterns: [
            { regex: '(^|/)src/(?!model/)', message: CONNECTOR_MESSAGE },
            { regex: '^(\\.\\./){3,}', message: CONNECTOR_MESSAGE },
          ],
        },
      ],
      'no-restricted-syntax': ['error', queryCalls],
    },
  },
  {
    files: ['src/**/*.ts', 'workers/**/*.ts'],
    ignores: ['src/store/**', 'src/pipeline/**', 'src/model/**', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: DB_MODULES.map((name) => ({ name, message: SQL_MESSAGE, allowTypeImports: true })) }],
      'no-restricted-syntax': ['error', queryCalls],
    },
  },
  {
    files: ['src/store/**/*.ts'],
    ignores: STORE_PIPELINE_VIOLATORS,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex: '(^|/)pipeline/', message: STORE_PIPELINE_MESSAGE, allowTypeImports: true }] }],
    },
  },
];
