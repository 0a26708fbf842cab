// Tracker type -> client factory (an explicit map, like the connector registry).
import type { TrackerConfig, TrackerType } from '../config/outbound.js';
import { githubTracker } from './github.js';
import { gitlabTracker } from './gitlab.js';
import { jiraTracker } from './jira.js';
import { linearTracker } from './linear.js';
import type { TrackerClient } from './types.js';

const FACTORIES: Record<TrackerType, (cfg: TrackerConfig) => TrackerClient> = {
  github: githubTracker,
  gitlab: gitlabTracker,
  jira: jiraTracker,
  linear: linearTracker,
};

export function trackerClient(cfg: TrackerConfig): TrackerClient {
  return FACTORIES[cfg.type](cfg);
}
