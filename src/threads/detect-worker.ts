// A detection helper thread (see detect-pool.ts): detects the feedback of the conversations it is sent
// with the same model file and rules as the thread that sent them.
import { compileRules, detectFeedback, type CompiledRule, type DetectedFeedback } from '../pipeline/feedback.js';
import { loadClassifierModel } from '../models/classifier.js';
import { serveRequests } from './channel.js';
import type { DetectJob } from './detect-pool.js';

let compiled: { version: string; rules: CompiledRule[] } | null = null;

serveRequests<DetectJob, Array<DetectedFeedback | null>>((req) => {
  const model = loadClassifierModel();
  if (model.version !== req.modelVersion) throw new Error(`model ${model.version} here, ${req.modelVersion} asked for`);
  if (compiled?.version !== req.rulesVersion) compiled = { version: req.rulesVersion, rules: compileRules(req.rules) };
  const rules = compiled.rules;
  return req.conversations.map((messages) => detectFeedback(model, messages, rules, req.rulesVersion));
});
