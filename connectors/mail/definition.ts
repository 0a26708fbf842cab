// The mail platform's registry entry: config schema, secrets, and a factory whose errors speak the
// runner's language (ConnectorError kinds), so an auth failure stops only this source.
import type { Connector, Page } from '../../src/model/index.js';
import { ConnectorError, type ConnectorDefinition, type ConnectorErrorKind } from '../types.js';
import { createMailConnector, MailConnectorError, type MailErrorCode } from './connector.js';
import { mailConfigSchema, MAIL_SECRET_KEYS, type MailConfig } from './config.js';
import type { MailCursor } from './cursor.js';

const KIND: Record<MailErrorCode, ConnectorErrorKind> = { MAIL_AUTH: 'auth', MAIL_CONNECT: 'net', MAIL_MAILBOX: 'permission', MAIL_CURSOR: 'bad_data' };

function translate(source: string, err: unknown): unknown {
  if (err instanceof MailConnectorError) return new ConnectorError(KIND[err.code], err.message, source, { cause: err });
  return err;
}

async function* guarded(source: string, pages: AsyncIterable<Page<MailCursor>>): AsyncIterable<Page<MailCursor>> {
  try {
    yield* pages;
  } catch (err: unknown) {
    throw translate(source, err);
  }
}

export const mailDefinition: ConnectorDefinition<MailConfig, MailCursor> = {
  platform: 'mail',
  configSchema: mailConfigSchema,
  secretKeys: [...MAIL_SECRET_KEYS],
  create(config, deps): Connector<MailCursor> {
    const inner = createMailConnector(config);
    return {
      platform: inner.platform,
      capabilities: inner.capabilities,
      normalize: (raw, ctx) => inner.normalize(raw, ctx),
      history: (from, signal) => guarded(deps.source, inner.history(from, signal)),
      live: inner.live ? (since, signal) => guarded(deps.source, inner.live!(since, signal)) : undefined,
    };
  },
};
