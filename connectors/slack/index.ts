// The Slack platform: the Web API connector (history; live by polling, or Socket Mode events with an
// app token), the workspace-export importer, config and secrets.
import type { ConnectorDefinition, Importer } from '../types.js';
import { slackConfigSchema, SLACK_SECRET_KEYS, type SlackConfig } from './config.js';
import { createSlackConnector } from './connector.js';
import type { SlackCursor } from './cursor.js';
import { slackExportImporter } from './importer-export.js';

export { createSlackConnector, fingerprint, type SlackConnectorOptions } from './connector.js';
export { slackConfigSchema, SLACK_SECRET_KEYS, type SlackConfig, type SlackConfigInput } from './config.js';
export { slackCursorSchema, parseSlackCursor, emptySlackCursor, tsToMs, msToTs, compareTs, type SlackCursor, type ChannelState } from './cursor.js';
export { normalizeSlack, mrkdwnToText, permalink, slackExternalId, SLACK_NORMALIZER_VERSION, type SlackItem, type SlackMessage } from './normalize.js';
export { slackExportImporter } from './importer-export.js';

export const slackDefinition: ConnectorDefinition<SlackConfig, SlackCursor> = {
  platform: 'slack',
  configSchema: slackConfigSchema,
  secretKeys: [...SLACK_SECRET_KEYS],
  create: (config, deps) => createSlackConnector(config, deps),
};

export const slackImporters: Importer[] = [slackExportImporter];
