// The Discourse platform: the forum JSON API connector (history; live by polling), the topic-dump
// importer, config and secrets.
import type { ConnectorDefinition, Importer } from '../types.js';
import { discourseConfigSchema, DISCOURSE_SECRET_KEYS, type DiscourseConfig } from './config.js';
import { createDiscourseConnector } from './connector.js';
import type { DiscourseCursor } from './cursor.js';
import { discourseTopicsImporter } from './importer-topics.js';

export { createDiscourseConnector, postFingerprint } from './connector.js';
export { discourseConfigSchema, DISCOURSE_SECRET_KEYS, type DiscourseConfig, type DiscourseConfigInput } from './config.js';
export { discourseCursorSchema, parseDiscourseCursor, emptyDiscourseCursor, type DiscourseCursor } from './cursor.js';
export { normalizeDiscourse, cookedToText, discourseExternalId, forumKey, DISCOURSE_NORMALIZER_VERSION, type DiscourseItem, type DiscoursePost } from './normalize.js';
export { discourseTopicsImporter } from './importer-topics.js';

export const discourseDefinition: ConnectorDefinition<DiscourseConfig, DiscourseCursor> = {
  platform: 'discourse',
  configSchema: discourseConfigSchema,
  secretKeys: [...DISCOURSE_SECRET_KEYS],
  create: (config, deps) => createDiscourseConnector(config, deps),
};

export const discourseImporters: Importer[] = [discourseTopicsImporter];
