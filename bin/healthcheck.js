#!/usr/bin/env node
// The container health check (Dockerfile HEALTHCHECK), the same for every role: with GLEANER_HEALTH_URL
// (the web app's or the metrics endpoint's /healthz) it must answer 2xx; else, with REDIS_URL (workers,
// the listener), Redis must accept a connection; else there is nothing long-running to check.
import { connect } from 'node:net';

const TIMEOUT_MS = 4000;
const url = process.env.GLEANER_HEALTH_URL;
const redis = process.env.REDIS_URL;
const done = (ok, why) => {
  if (!ok) console.error(`unhealthy: ${why}`);
  process.exit(ok ? 0 : 1);
};
setTimeout(() => done(false, 'no answer within 4 s'), TIMEOUT_MS).unref();
if (url) {
  fetch(url).then(
    (r) => done(r.ok, `${url} answered ${r.status}`),
    (err) => done(false, `${url}: ${err.message}`),
  );
} else if (redis) {
  const u = new URL(redis);
  const s = connect(Number(u.port || 6379), u.hostname);
  s.on('connect', () => {
    s.destroy();
    done(true);
  });
  s.on('error', (err) => done(false, `Redis at ${u.hostname}:${u.port || 6379}: ${err.message}`));
} else done(true);
