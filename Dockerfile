# Gleaner: one image for the web app, the workers and the listener (the command picks the role).
# Node 20.19 or later (html-to-text needs it; `engines` in package.json says the same). Runs as the
# image's unprivileged `node` user; the store (SQLite) and any files it writes go to /data.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Toolchain for native modules without a prebuilt binary for this platform (better-sqlite3, msgpackr-extract).
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY connectors ./connectors
COPY workers ./workers
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Only what runs: the compiled code, production dependencies, the CLI entry, templates, models and the
# sample community (for `gleaner demo`). Owned by root, read-only to the app user.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY templates ./templates
COPY models ./models
COPY examples ./examples
RUN mkdir -p /data /config && chown node:node /data
USER node
VOLUME ["/data"]
ENV GLEANER_DB=/data/gleaner.db
# Role-aware: GLEANER_HEALTH_URL (the web app's or the metrics endpoint's /healthz) when set, else Redis
# reachable when REDIS_URL is set; docker-compose.yml sets it per service.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/gleaner.js"]
CMD ["--help"]
