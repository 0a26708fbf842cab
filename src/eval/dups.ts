// Duplicate-report retrieval evaluation (GitBugs-style CSVs): for each gold pair, the pair's first
// report is the query, every other report in the corpus is ranked, and we look for the partner.
import { readFile } from 'node:fs/promises';
import { createNearDupIndex, type NearDupOptions } from '../pipeline/dedupe/index.js';
import { loadWordNeighbours } from '../models/word-neighbours.js';
import { parseCsvRecords } from './csv.js';

export interface DupReport {
  id: string;
  title: string;
  text: string;
  /** Creation time (ms) when the CSV has a parsable `Created` column. */
  at?: number;
}

const MONTHS: Record<string, number> = { jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11 };

/** JIRA's `30/Sep/21 17:20` (UTC assumed) or anything Date.parse understands; undefined otherwise. */
export function parseReportTime(s: string): number | undefined {
  const m = /^(\d{1,2})\/([A-Za-z]{3})\/(\d{2,4})(?:\s+(\d{1,2}):(\d{2}))?/.exec(s.trim());
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    if (month === undefined) return undefined;
    const y = Number(m[3]);
    return Date.UTC(y < 100 ? 2000 + y : y, month, Number(m[1]), Number(m[4] ?? 0), Number(m[5] ?? 0));
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export interface DupMetrics {
  recallAt1: number;
  recallAt5: number;
  recallAt10: number;
  mrr: number;
  /** Pairs evaluated (pairs whose ends are both in the corpus). */
  pairs: number;
  /** Pairs skipped because an end is missing from the corpus. */
  skipped: number;
  /** 1-based rank of the partner per evaluated pair, Infinity when it shares no term with the query. */
  ranks: number[];
}

const pick = (rec: Record<string, string>, names: string[]): string => {
  for (const n of names) {
    const v = rec[n];
    if (v !== undefined) return v;
  }
  return '';
};

/** Reads report rows: id from `Issue id`/`id`, title from `Summary`/`Title`, text from `Description` plus `Component`/`Product` when present. */
export function reportsFromRecords(records: Array<Record<string, string>>): DupReport[] {
  const out: DupReport[] = [];
  for (const r of records) {
    const id = pick(r, ['Issue id', 'Issue ID', 'id', 'Id', 'ID', 'Bug ID']).trim();
    if (id === '') continue;
    const extra = [pick(r, ['Component', 'Component/s', 'component']), pick(r, ['Product', 'product'])].filter((s) => s !== '').join(' ');
    const text = pick(r, ['Description', 'description', 'Body', 'body']);
    const report: DupReport = { id, title: pick(r, ['Summary', 'Title', 'summary', 'title']), text: extra ? `${extra}\n${text}` : text };
    const at = parseReportTime(pick(r, ['Created', 'created', 'Opened', 'creation_time']));
    if (at !== undefined) report.at = at;
    out.push(report);
  }
  return out;
}

export function pairsFromRecords(records: Array<Record<string, string>>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const r of records) {
    const values = Object.values(r).map((v) => v.trim());
    const a = values[0];
    const b = values[1];
    if (a && b) out.push([a, b]);
  }
  return out;
}

/** Pure metric computation over in-memory reports and pairs. */
export function evaluateDupRetrieval(reports: DupReport[], pairs: Array<[string, string]>, opts: NearDupOptions = {}): DupMetrics {
  const index = createNearDupIndex({ capacity: reports.length, ...opts });
  const byId = new Map<string, DupReport>();
  for (const r of reports) {
    if (byId.has(r.id)) continue; // a repeated row is one report
    byId.set(r.id, r);
    index.add(r.id, r.at === undefined ? { title: r.title, text: r.text } : { title: r.title, text: r.text, at: r.at });
  }
  const ranks: number[] = [];
  let skipped = 0;
  for (const [queryId, partnerId] of pairs) {
    const query = byId.get(queryId);
    if (!query || !byId.has(partnerId)) {
      skipped++;
      continue;
    }
    const ranked = index.query(query, index.size(), { exclude: queryId });
    const at = ranked.findIndex((r) => r.id === partnerId);
    ranks.push(at < 0 ? Infinity : at + 1);
  }
  const n = ranks.length;
  const share = (k: number): number => (n === 0 ? 0 : ranks.filter((r) => r <= k).length / n);
  const mrr = n === 0 ? 0 : ranks.reduce((s, r) => s + (Number.isFinite(r) ? 1 / r : 0), 0) / n;
  return { recallAt1: share(1), recallAt5: share(5), recallAt10: share(10), mrr, pairs: n, skipped, ranks };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Reads a reports CSV and a pairs CSV (paths) and returns the dups.* metrics, 3 decimals. The index's
 * need ranker gets the shipped word model (models/word-neighbours.json) unless `opts` says otherwise.
 */
export async function evalDups(reportsCsv: string, pairsCsv: string, opts: NearDupOptions = {}): Promise<Array<[string, number]>> {
  const [reportsText, pairsText] = await Promise.all([readFile(reportsCsv, 'utf8'), readFile(pairsCsv, 'utf8')]);
  const m = evaluateDupRetrieval(reportsFromRecords(parseCsvRecords(reportsText)), pairsFromRecords(parseCsvRecords(pairsText)), { wordModel: loadWordNeighbours(), ...opts });
  return [
    ['dups.recall@1', round3(m.recallAt1)],
    ['dups.recall@5', round3(m.recallAt5)],
    ['dups.recall@10', round3(m.recallAt10)],
    ['dups.mrr', round3(m.mrr)],
  ];
}
