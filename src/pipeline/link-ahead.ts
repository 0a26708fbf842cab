// Linking chat lines ahead of storing them: the pure part of src/threads/link-ahead.ts, which runs on a
// helper thread. A bulk import hands each batch's channel streams here before the batch before it is
// stored; this links them with a state that continues from the lines it saw last. The store takes a
// channel's links only when they continue from what it actually holds (AheadCheck); otherwise it links
// on its own thread and seeds this state from the store's lines, which starts a new generation: links
// made before the seed no longer count, and the lines already handed over are linked again after it.
import { ChannelThreader, type StreamMessage } from './chat-threads.js';
import type { DisentangleModel } from './disentangle/index.js';

export interface AheadLinks {
  /** The line keys linked, in order: the store takes the links only for exactly these lines. */
  keys: string[];
  /** The last line the state held before these (null: none, the channel started here). */
  prevLastKey: string | null;
  /** The seed generation of the state (0: never seeded). */
  gen: number;
  /** Batch position -> parent key. */
  links: Array<[number, string]>;
}

export class AheadLinker {
  private readonly threader: ChannelThreader;
  private readonly gens = new Map<string, number>();

  constructor(model: DisentangleModel, maxChannels = 2000) {
    this.threader = new ChannelThreader(model, maxChannels);
  }

  link(channel: string, lines: readonly StreamMessage[]): AheadLinks {
    const prev = this.threader.lastKey(channel);
    // No state (first lines, or forgotten): a history that starts here, in the current generation.
    const links = this.threader.link(channel, prev === null ? [] : null, lines);
    return { keys: lines.map((l) => l.key), prevLastKey: prev, gen: this.gens.get(channel) ?? 0, links: [...links] };
  }

  /** The store linked `lines` of a channel itself after `context` (its stored lines before them): the state becomes that, in generation `gen`. */
  seed(channel: string, gen: number, context: readonly StreamMessage[], lines: readonly StreamMessage[]): void {
    this.threader.link(channel, context, lines);
    this.gens.delete(channel);
    this.gens.set(channel, gen);
    if (this.gens.size > 4 * 2000) this.gens.delete(this.gens.keys().next().value!);
  }
}

/**
 * Whether links made ahead may stand for linking here: they are for exactly these lines, in the
 * channel's current seed generation, and their state ended at the store's last stream line before
 * them, which is also where the last links taken (or the last seed) for the channel ended: so the
 * state's history is the lines the store took, in order, from an empty channel or from a seed.
 */
export class AheadCheck {
  private readonly confirmed = new Map<string, string>();
  private readonly gens = new Map<string, number>();

  /** The channel's current seed generation. */
  gen(channel: string): number {
    return this.gens.get(channel) ?? 0;
  }

  /** A seed is sent: the channel's next generation starts, its history ending at `lastKey`. Returns the generation. */
  seeded(channel: string, lastKey: string): number {
    const g = this.gen(channel) + 1;
    this.remember(this.gens, channel, g);
    this.remember(this.confirmed, channel, lastKey);
    return g;
  }

  accept(channel: string, ahead: AheadLinks | undefined, lastStoredKey: string | null, lines: readonly StreamMessage[]): boolean {
    if (!ahead || !lines.length || ahead.gen !== this.gen(channel) || ahead.keys.length !== lines.length || ahead.prevLastKey !== lastStoredKey) return false;
    for (let i = 0; i < lines.length; i++) if (ahead.keys[i] !== lines[i]!.key) return false;
    if (ahead.prevLastKey !== null && this.confirmed.get(channel) !== ahead.prevLastKey) return false;
    this.remember(this.confirmed, channel, lines[lines.length - 1]!.key);
    return true;
  }

  private remember<V>(map: Map<string, V>, channel: string, value: V): void {
    map.delete(channel);
    map.set(channel, value);
    if (map.size > 4 * 2000) map.delete(map.keys().next().value!);
  }
}
