# syntax=docker/dockerfile:1
# ltx: one image for every role. The command picks it: `start` (API + worker + schedules with a
# local redis-server; the default), `api`, or `worker` — see docker-compose.yml.

# --- build: dev dependencies, TypeScript → dist/, then drop the dev dependencies ---------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (the build) needs the sources, copied below. The
# only dependency install script is msgpackr-extract's, which finds its prebuilt binary anyway
# (and BullMQ falls back to plain JS msgpack without it).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: production node_modules, dist/, the web page, non-root -------------------------
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    REDIS_DATA_DIR=/app/data \
    FILES_DIR=/app/data/files
WORKDIR /app
# Root-owned and read-only for the app user: the process can't rewrite its own code.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY web ./web
# The only writable place: the generated files (FILES_DIR; a volume mounted here starts out owned
# by the app user) and the local redis-server's data when `start` runs without REDIS_URL (that
# also needs redis-server in the image; compose runs Redis as its own service instead).
RUN mkdir -p /app/data/files && chown -R node:node /app/data
USER node
EXPOSE 3000
ENTRYPOINT ["node", "bin/ltx.js"]
CMD ["start"]
