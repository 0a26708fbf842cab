// The GitHub platform: Discussions (GraphQL) and Issues (REST) through @octokit with its throttling and
// retry plugins (history; live by polling), the API-dump importer, config and secrets.
import type { ConnectorDefinition, Importer } from '../types.js';
import { githubConfigSchema, GITHUB_SECRET_KEYS, type GithubConfig } from './config.js';
import { createGithubConnector } from './connector.js';
import type { GithubCursor } from './cursor.js';
import { githubDumpImporter } from './importer-dump.js';

export { createGithubConnector } from './connector.js';
export { githubConfigSchema, GITHUB_SECRET_KEYS, type GithubConfig, type GithubConfigInput } from './config.js';
export { githubCursorSchema, parseGithubCursor, emptyGithubCursor, type GithubCursor } from './cursor.js';
export { normalizeGithub, markdownToText, ME_TOO_TEXT, GITHUB_NORMALIZER_VERSION, type GithubItem } from './normalize.js';
export { DISCUSSIONS_QUERY } from './discussions.js';
export { githubDumpImporter } from './importer-dump.js';

export const githubDefinition: ConnectorDefinition<GithubConfig, GithubCursor> = {
  platform: 'github',
  configSchema: githubConfigSchema,
  secretKeys: [...GITHUB_SECRET_KEYS],
  create: (config, deps) => createGithubConnector(config, deps),
};

export const githubImporters: Importer[] = [githubDumpImporter];
