// The IRC platform: the live/CHATHISTORY connector, its config and secrets, and one importer per log format.
import type { ConnectorDefinition, Importer } from '../types.js';
import { ircConfigSchema, IRC_SECRET_KEYS, type IrcConfig } from './config.js';
import { createIrcConnector } from './connector.js';
import type { IrcCursor } from './cursor.js';
import { ircChannelDatedImporter, ircHexchatImporter, ircIrssiImporter, ircLimnoriaImporter, ircUbuntuImporter, ircWeechatImporter, ircZncImporter } from './importer-logs.js';

export { createIrcConnector, throttleDelayMs } from './connector.js';
export { ircConfigSchema, ircNetworkSchema, ircBridgeSchema, IRC_SECRET_KEYS, type IrcConfig, type IrcConfigInput, type IrcNetworkConfig } from './config.js';
export { parseIrcCursor, emptyIrcCursor, ircCursorSchema, channelKey, type IrcCursor } from './cursor.js';
export { normalizeIrcLine, externalIdOf, lineHash, permalinkFor, IRC_NORMALIZER_VERSION, type IrcLine, type IrcLineKind, type IrcNormalizeOptions } from './normalize.js';
export { detectRelay, stripFormatting, puppetOf, type BridgeRule, type BridgeVerdict, type Relayed } from './bridges.js';
export {
  IRC_LOG_FORMATS,
  detectIrcLogFormat,
  parseIrcLogLine,
  dateFromPath,
  channelFromPath,
  eventKind,
  ircUbuntuImporter,
  ircChannelDatedImporter,
  ircIrssiImporter,
  ircWeechatImporter,
  ircZncImporter,
  ircLimnoriaImporter,
  ircHexchatImporter,
  type IrcLogFormat,
} from './importer-logs.js';

/** Their `detect`s pick the single best-fitting format, so they exclude each other and order does not matter. */
export const ircImporters: Importer[] = [ircUbuntuImporter, ircChannelDatedImporter, ircIrssiImporter, ircWeechatImporter, ircZncImporter, ircLimnoriaImporter, ircHexchatImporter];

export const ircDefinition: ConnectorDefinition<IrcConfig, IrcCursor> = {
  platform: 'irc',
  configSchema: ircConfigSchema,
  secretKeys: [...IRC_SECRET_KEYS],
  create: (config, deps) => createIrcConnector(config, deps),
};
