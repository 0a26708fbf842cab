// Discord source config, validated at start; the schema documents it.
import { z } from 'zod';

const snowflake = z.string().regex(/^\d{1,20}$/, 'a Discord id (snowflake, digits)');

export const discordConfigSchema = z
  .object({
    /** Secret: the bot token (without the `Bot ` prefix). Redacted in logs and the API (DISCORD_SECRET_KEYS). */
    token: z.string().min(1),
    /** The server (guild) to read. */
    guildId: snowflake,
    /**
     * Channels to read: text, announcement and forum channel ids. Empty = every text, announcement and forum
     * channel of the guild the bot can see. Threads of these channels (active and archived public) are read too.
     */
    channels: z.array(snowflake).default([]),
    /** REST base; a test points it at a fake (`http://127.0.0.1:P/api`). */
    apiUrl: z.string().url().default('https://discord.com/api'),
    /** Messages per request (Discord allows 1-100). */
    pageSize: z.number().int().min(1).max(100).default(100),
    /** Read threads and forum posts. */
    threads: z.boolean().default(true),
    /**
     * Look up each author's guild roles (GET /guilds/{id}/members/{user}, once per author per pull), so that
     * `orgs:` `discordRoles` can place people read over REST (the gateway sends roles with each message).
     */
    memberRoles: z.boolean().default(true),
    /**
     * Edits and deletions are not announced over REST: each pull re-reads the newest `messages` of every channel
     * active in the last `days` days and reports edited and vanished ones. 0 turns this off.
     */
    recheck: z
      .object({ messages: z.number().int().min(0).max(100).default(50), days: z.number().min(0).default(7) })
      .strict()
      .default({ messages: 50, days: 7 }),
    /** REST retries for 5xx and network errors (429s are waited out, not retried blindly). */
    retries: z.number().int().min(0).max(10).default(3),
    /** REST request timeout. */
    timeoutMs: z.number().int().min(1000).default(15_000),
  })
  .strict();

export type DiscordConfig = z.output<typeof discordConfigSchema>;
export type DiscordConfigInput = z.input<typeof discordConfigSchema>;

/** Config keys holding secrets. */
export const DISCORD_SECRET_KEYS = ['token'] as const;
