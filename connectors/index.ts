// The explicit registry: platform -> importers and live connector factory. No import side effects.
import type { Platform } from '../src/model/index.js';
import type { ConnectorDefinition, Importer } from './types.js';
import { mailImporters } from './mail/index.js';
import { mailDefinition } from './mail/definition.js';
import { slackDefinition, slackImporters } from './slack/index.js';
import { discordDefinition, discordImporters } from './discord/index.js';
import { matrixDefinition, matrixImporters } from './matrix/index.js';
import { ircDefinition, ircImporters } from './irc/index.js';
import { discourseDefinition, discourseImporters } from './discourse/index.js';
import { githubDefinition, githubImporters } from './github/index.js';

export const importers: Importer[] = [...mailImporters, ...slackImporters, ...discordImporters, ...matrixImporters, ...ircImporters, ...discourseImporters, ...githubImporters];

export function importerFor(format: string): Importer | undefined {
  return importers.find((i) => i.format === format);
}

/** Live/history connectors by platform. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const definitions: Partial<Record<Platform, ConnectorDefinition<any, any>>> = {
  mail: mailDefinition,
  slack: slackDefinition,
  discord: discordDefinition,
  matrix: matrixDefinition,
  irc: ircDefinition,
  discourse: discourseDefinition,
  github: githubDefinition,
};
