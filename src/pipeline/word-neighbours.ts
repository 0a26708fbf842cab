// Nearest words of the shipped word model (models/word-neighbours.json, trained by
// scripts/train-words.ts on public support chat and bug reports): "freez" -> "hang", "firefox" ->
// "chrome", "termin" -> "shell". Grouping adds a need's words' neighbours to its word part, so two
// reports of one need in other words come closer. Pure: the file is read in src/models/.

export const WORD_MODEL_FORMAT = 'gleaner-word-neighbours/1';

export interface WordNeighbourModel {
  format: string;
  about: string;
  settings: Record<string, number>;
  /** Stemmed word (tokenizeReport) -> its nearest words with their cosine, best first. */
  neighbours: Record<string, Array<[string, number]>>;
}

/** A word's nearest words with their cosine; words the model does not know have none. */
export interface WordNeighbours {
  of(word: string): ReadonlyArray<readonly [string, number]>;
}

export function parseWordNeighbourModel(json: unknown): WordNeighbours {
  const m = json as Partial<WordNeighbourModel> | null;
  if (!m || typeof m !== 'object' || m.format !== WORD_MODEL_FORMAT) throw new Error(`not a word model of format ${WORD_MODEL_FORMAT}`);
  if (!m.neighbours || typeof m.neighbours !== 'object') throw new Error('word model without neighbours');
  const map = new Map<string, ReadonlyArray<readonly [string, number]>>();
  for (const [w, list] of Object.entries(m.neighbours)) {
    if (!Array.isArray(list)) throw new Error(`word model: neighbours of "${w}" are not a list`);
    const ok = list.filter((x): x is [string, number] => Array.isArray(x) && typeof x[0] === 'string' && typeof x[1] === 'number' && x[1] > 0 && x[1] <= 1);
    if (ok.length) map.set(w, ok);
  }
  const none: ReadonlyArray<readonly [string, number]> = [];
  return { of: (word) => map.get(word) ?? none };
}
