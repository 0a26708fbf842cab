// Per-label F1 and macro F1 from (gold, predicted) pairs. Pure.

export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export function perLabelScores<L extends string>(gold: readonly L[], predicted: readonly L[], labels: readonly L[]): Map<L, LabelScores> {
  if (gold.length !== predicted.length) throw new Error(`perLabelScores: ${gold.length} gold labels but ${predicted.length} predictions`);
  const out = new Map<L, LabelScores>();
  for (const l of labels) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < gold.length; i++) {
      const g = gold[i] === l;
      const p = predicted[i] === l;
      if (g && p) tp++;
      else if (p) fp++;
      else if (g) fn++;
    }
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    out.set(l, { precision, recall, f1, support: tp + fn });
  }
  return out;
}

/** Unweighted mean of the per-label F1 over `labels` (a label absent from both sides scores 0). */
export function macroF1<L extends string>(gold: readonly L[], predicted: readonly L[], labels: readonly L[]): number {
  const s = perLabelScores(gold, predicted, labels);
  let sum = 0;
  for (const l of labels) sum += s.get(l)?.f1 ?? 0;
  return labels.length ? sum / labels.length : 0;
}

/** F1 of one positive label in a binary task. */
export function binaryF1(gold: readonly boolean[], predicted: readonly boolean[]): number {
  const g = gold.map((b) => (b ? 'y' : 'n'));
  const p = predicted.map((b) => (b ? 'y' : 'n'));
  return perLabelScores(g, p, ['y']).get('y')?.f1 ?? 0;
}
