// Config for what Gleaner sends out besides the email digest: a team's chat posts, its public edition,
// the loop's replies, and which sources and channels are public.
import { z } from 'zod';

/** `teams[].post[]`: post the team's approved edition to a channel of a configured Slack, Discord or Matrix source. */
export const TeamPostSchema = z
  .object({
    /** The name of a source in `sources:` (its token and API address are used). */
    source: z.string().min(1),
    /** Slack: `#name` or a channel id; Discord: the channel id; Matrix: a room id (`!id:server`) or alias (`#name:server`). */
    channel: z.string().min(1),
  })
  .strict();

/** Closing the loop: replies to the threads where a resolved need was voiced. */
export const LoopConfigSchema = z
  .object({
    /** Replies are approved as they are drafted and sent without review. Off by default: a curator approves each. */
    autoApprove: z.boolean().default(false),
    /** Draft replies to IRC conversations too (a line in the channel, addressed to the reporter). Off by default. */
    irc: z.boolean().default(false),
    /** The reply's text: {title}, {resolution} (the reference) and {url} (the link, or nothing) are filled in. */
    template: z.string().min(1).max(2000).default('Thanks for reporting this: it is resolved ({resolution}){url}.'),
    /** Mailing lists' posting addresses by List-Id, where `dev.lists.example.org` -> `dev@lists.example.org` does not hold. */
    lists: z.record(z.string(), z.string().email()).default({}),
  })
  .strict()
  .default({ autoApprove: false, irc: false, template: 'Thanks for reporting this: it is resolved ({resolution}){url}.', lists: {} });
export type LoopConfig = z.infer<typeof LoopConfigSchema>;

/**
 * `sources[].public`: whether the source's channels are public (quotable in the public edition): `true`
 * for all of them, or a list of channel names or ids. Default false: nothing from a source is quoted in
 * public unless its config says so.
 */
export const SourcePublicSchema = z.union([z.boolean(), z.array(z.string().min(1))]).optional();
