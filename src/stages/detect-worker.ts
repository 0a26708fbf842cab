// A detection helper thread (see detect-pool.ts): detects the feedback of the conversations it is sent
// with the same model file and rules as the thread that sent them.
import { parentPort } from 'node:worker_threads';
import { compileRules, detectFeedback, type CompiledRule } from '../pipeline/feedback.js';
import { loadClassifierModel } from '../models/classifier.js';
import type { DetectReply, DetectRequest } from './detect-pool.js';

let compiled: { version: string; rules: CompiledRule[] } | null = null;

parentPort?.on('message', (req: DetectRequest) => {
  let reply: DetectReply;
  try {
    const model = loadClassifierModel();
    if (model.version !== req.modelVersion) throw new Error(`model ${model.version} here, ${req.modelVersion} asked for`);
    if (compiled?.version !== req.rulesVersion) compiled = { version: req.rulesVersion, rules: compileRules(req.rules) };
    const rules = compiled.rules;
    reply = { seq: req.seq, ok: true, detected: req.conversations.map((messages) => detectFeedback(model, messages, rules, req.rulesVersion)) };
  } catch (err: unknown) {
    reply = { seq: req.seq, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  parentPort!.postMessage(reply);
});
