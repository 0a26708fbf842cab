// IMAP source config, validated at start; the schema documents it.
import { z } from 'zod';

export const mailConfigSchema = z
  .object({
    /** IMAP server host name. */
    host: z.string().min(1),
    /** 993 for implicit TLS, 143 for plain/STARTTLS. */
    port: z.number().int().min(1).max(65535).default(993),
    /** true: TLS from the start (port 993); false: plain, upgraded with STARTTLS when the server offers it. */
    secure: z.boolean().default(true),
    user: z.string().min(1),
    /** Secret: redacted in logs and the API (see MAIL_SECRET_KEYS). */
    password: z.string().min(1),
    /** Mailbox paths to read, with the server's own delimiter (Dovecot maildir: `lists.dev`). */
    mailboxes: z.array(z.string().min(1)).min(1).default(['INBOX']),
  })
  .strict();

export type MailConfig = z.output<typeof mailConfigSchema>;
export type MailConfigInput = z.input<typeof mailConfigSchema>;

/** Config keys holding secrets. */
export const MAIL_SECRET_KEYS = ['password'] as const;
