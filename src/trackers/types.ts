// What every tracker client does: create an issue, update it, read its state back. The clients map
// their API onto these; everything past them (claims, content, sync, errors) is the same for all.
import { GleanerError } from '../errors.js';

/** The issue as Gleaner writes it: a title, Markdown (GitHub, GitLab, Linear) and the same as blocks (Jira's ADF). */
export interface IssueContent {
  title: string;
  markdown: string;
  blocks: ContentBlock[];
}

/** A paragraph of text runs (a run may be a link), or a bulleted list of such paragraphs, or a quote. */
export type Run = { text: string; href?: string; strong?: boolean };
export type ContentBlock = { type: 'heading'; text: string } | { type: 'paragraph'; runs: Run[] } | { type: 'list'; items: Run[][] } | { type: 'quote'; runs: Run[] };

export interface IssueRef {
  externalId: string;
  /** What people call it: `owner/repo#12`, `DRIFT-7`, `ENG-3`. */
  key: string;
  url: string;
  state: 'open' | 'closed';
}

export interface IssueState extends IssueRef {
  /** When closed: what closed it (a commit, a resolution, a workflow state), for the cluster's "resolved by". */
  reference: string | null;
  referenceUrl: string | null;
}

export interface TrackerClient {
  create(content: IssueContent): Promise<IssueRef>;
  update(externalId: string, content: IssueContent): Promise<IssueRef>;
  state(externalId: string): Promise<IssueState>;
}

/** A tracker call that failed: `status` is the HTTP status when there was an answer. */
export class TrackerError extends GleanerError {
  readonly status: number | null;
  constructor(tracker: string, status: number | null, message: string, options?: { cause?: unknown }) {
    super(
      status === 401 || status === 403 ? 'tracker_auth' : 'tracker_failed',
      `tracker ${tracker}: ${status === 401 ? 'the token was refused (401)' : status === 403 ? 'permission denied (403)' : status ? `HTTP ${status}` : 'no answer'}: ${message}`,
      options,
    );
    this.name = 'TrackerError';
    this.status = status;
  }
}
