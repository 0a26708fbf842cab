// The mail platform: mbox and pipermail importers, the IMAP connector, its config and secrets.
import type { Importer } from '../types.js';
import { mboxImporter } from './importer-mbox.js';
import { pipermailImporter } from './importer-pipermail.js';

export { createMailConnector, MailAuthError, MailConnectorError, IMAP_PAGE_SIZE, type MailErrorCode } from './connector.js';
export { mailConfigSchema, MAIL_SECRET_KEYS, type MailConfig, type MailConfigInput } from './config.js';
export { mailCursorSchema, parseMailCursor, emptyMailCursor, type MailCursor, type MailboxState } from './cursor.js';
export { normalizeMail, extractNewText, MAIL_NORMALIZER_VERSION, type MailRaw } from './normalize.js';
export { mboxImporter } from './importer-mbox.js';
export { pipermailImporter } from './importer-pipermail.js';

/** Their `detect`s exclude each other (a pipermail `.txt` is not claimed by mbox), so order does not matter. */
export const mailImporters: Importer[] = [mboxImporter, pipermailImporter];
