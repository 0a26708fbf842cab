// The Discord platform: REST history + gateway live connector, the DiscordChatExporter importer, config, secrets.
import type { ConnectorDefinition, Importer } from '../types.js';
import { discordConfigSchema, DISCORD_SECRET_KEYS, type DiscordConfig } from './config.js';
import { createDiscordConnector } from './connector.js';
import type { DiscordCursor } from './cursor.js';
import { dceImporter } from './importer-dce.js';

export { createDiscordConnector, DiscordConnector } from './connector.js';
export { DiscordApi, ChannelDirectory } from './api.js';
export { liveFromGateway, DISCORD_INTENTS } from './gateway.js';
export { discordConfigSchema, DISCORD_SECRET_KEYS, type DiscordConfig, type DiscordConfigInput } from './config.js';
export * from './cursor.js';
export { normalizeDiscordItem, discordMarkdownToText, DISCORD_NORMALIZER_VERSION, type DiscordItem, type DiscordMessageItem, type DiscordDeleteItem } from './normalize.js';
export { dceImporter, normalizeDce, readDceExport, DCE_NORMALIZER_VERSION } from './importer-dce.js';

export const discordImporters: Importer[] = [dceImporter];

export const discordDefinition: ConnectorDefinition<DiscordConfig, DiscordCursor> = {
  platform: 'discord',
  configSchema: discordConfigSchema,
  secretKeys: [...DISCORD_SECRET_KEYS],
  create: (config, deps) => createDiscordConnector(config, deps),
};
