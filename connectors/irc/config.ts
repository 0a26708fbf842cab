// IRC source config, validated at start; the schema documents it. One source may watch several networks.
import { z } from 'zod';

// eslint-disable-next-line no-control-regex -- BEL is not allowed in channel names
const channelName = z.string().regex(/^[#&!+][^\s,\x07]+$/, 'a channel name such as #lumen');

export const ircNetworkSchema = z
  .object({
    /** Short network name (`libera`); namespaces channels and nicks when a source has several networks. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/),
    host: z.string().min(1),
    /** 6697 for TLS, 6667 for plain. */
    port: z.number().int().min(1).max(65535).default(6697),
    tls: z.boolean().default(true),
    /** Set false only for a local test server with a self-signed certificate. */
    rejectUnauthorized: z.boolean().default(true),
    nick: z.string().min(1).max(30),
    username: z.string().min(1).optional(),
    gecos: z.string().default('Gleaner feedback collector'),
    /** SASL PLAIN credentials; `password` is a secret (env var or *_FILE). */
    sasl: z
      .object({ account: z.string().min(1), password: z.string().min(1) })
      .strict()
      .optional(),
    channels: z.array(channelName).min(1),
  })
  .strict();
export type IrcNetworkConfig = z.output<typeof ircNetworkSchema>;

export const ircBridgeSchema = z
  .object({
    /** The bridge bot's nick, or `/regex/flags`. */
    bot: z.string().min(1),
    /** Regex with named groups `nick` and `text` (optional `protocol`) for this bot's lines. */
    pattern: z
      .string()
      .refine((p) => {
        try {
          new RegExp(p, 'u');
          return /\(\?<nick>/.test(p) && /\(\?<text>/.test(p);
        } catch {
          return false;
        }
      }, 'a valid regex with named groups nick and text')
      .optional(),
    /** The platform on the other side (`matrix`, `discord`, ...) when the line does not name it. */
    protocol: z.string().min(1).optional(),
  })
  .strict();

export const ircConfigSchema = z
  .object({
    networks: z.array(ircNetworkSchema).min(1),
    bridges: z.array(ircBridgeSchema).default([]),
    /** Nicks of bots whose lines are kept but marked as bot lines. */
    bots: z.array(z.string()).default([]),
    /** Public log URL with {channel} {channelBare} {date} {time} {msgid}; without it permalinks are null. */
    permalinkTemplate: z.string().min(1).optional(),
    /** Where a first CHATHISTORY backfill starts (ISO date); default: everything the server keeps. */
    backfillFrom: z.string().datetime({ offset: true }).optional(),
    /** Messages asked per CHATHISTORY request (capped by the server's CHATHISTORY= token). */
    historyPageSize: z.number().int().min(1).max(1000).default(100),
    /** Reconnect backoff per network. */
    reconnectInitialMs: z.number().int().min(1).default(2_000),
    reconnectMaxMs: z.number().int().min(1).default(300_000),
    /** How long to wait for registration, a join or a CHATHISTORY batch before giving up on a connection. */
    timeoutMs: z.number().int().min(100).default(30_000),
  })
  .strict();
export type IrcConfig = z.output<typeof ircConfigSchema>;
export type IrcConfigInput = z.input<typeof ircConfigSchema>;

/** Config keys holding secrets (`networks[].sasl.password`). */
export const IRC_SECRET_KEYS = ['password'] as const;
