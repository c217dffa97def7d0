# syntax=docker/dockerfile:1
# The taskotron image: one image for every taskotron process of docker-compose.yml (setup, ingest,
# runner workers, the artifacts web server); the command picks the process. Multi-stage: the build
# stage has the compilers and dev dependencies, the runtime stage only what runs, as a non-root user.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# zeromq's native addon builds from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ cmake ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build-if-stale.mjs scripts/dist-freshness.mjs ./scripts/
COPY src ./src
# `npm ci` runs `prepare` (= `npm run build`): compiles src/ into dist/ and writes the prebuilt
# workflow bundles beside it, so neither a runner nor an ingest runs webpack at start.
RUN npm ci --no-audit --no-fund \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# What runner hosts need to run jobs: git (task repositories), bubblewrap (the per-job sandbox),
# rpm + createrepo-c + dnf (directives), python3 (the python directive); tini reaps orphans and
# forwards SIGTERM, so `docker compose stop` is a graceful worker shutdown.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git bubblewrap rpm createrepo-c python3 ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 taskotron \
 && useradd --system --uid 10001 --gid taskotron --home-dir /var/lib/taskotron --create-home taskotron \
 && mkdir -p /etc/taskotron /var/lib/taskotron/artifacts \
 && chown -R taskotron:taskotron /var/lib/taskotron
WORKDIR /opt/taskotron
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# python_runner.py is read from src/activities at run time; the examples are the demo rules and tasks.
COPY --from=build /src/src ./src
COPY examples ./examples
ENV NODE_ENV=production \
    TASKOTRON_CONFIG=/etc/taskotron/taskotron.yaml \
    TASKOTRON_RUNNER_ROOT=/var/lib/taskotron
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/opt/taskotron/dist/src/cli/main.js"]
CMD ["--help"]
