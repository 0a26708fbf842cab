# Gleaner: one image for the web app, the workers and the listener (the command picks the role).
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app /app
VOLUME ["/data"]
ENV GLEANER_DB=/data/gleaner.db
ENTRYPOINT ["node", "bin/gleaner.js"]
CMD ["--help"]
