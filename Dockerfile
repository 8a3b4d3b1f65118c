# The tuneforge worker: runs the fine-tune workflows and their activities against a Temporal server.
# Built and run by docker-compose.yml (see docs/deployment.md); usable on its own as
#   docker build -t tuneforge-worker . && docker run -e TEMPORAL_ADDRESS=host:7233 tuneforge-worker
#
# The image is for the aws provider: it runs as the unprivileged user `node`. The local provider
# needs root and Linux namespaces (unshare, sshd), which this image neither has nor is allowed.
#
# Secrets are never part of the image: the operator's SSH private key and AWS credentials are
# mounted or passed in at run time (.dockerignore also keeps keys and .env out of the context).

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- build: every dependency, then the TypeScript compile -----------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json

# --- runtime: production dependencies, the compiled worker and the recipes --------------------------
FROM ${NODE_IMAGE} AS runtime

# openssh-client gives ssh-keygen (used by the local provider); the worker's own SSH is ssh2 (pure JS).
# tar and gzip (recipe bundles) are part of the base image. Versions come from the pinned base's
# Debian release and its security updates, not pinned one by one.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production
# One malloc arena, and blocks over 64 KiB mmapped (returned when freed): the worker's native threads
# otherwise keep a ~64 MB arena each resident (docs/deployment.md, "Worker memory").
ENV MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=65536
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/lib ./lib
# The worker uploads the recipes to the nodes (and fingerprints them to name baked images).
COPY recipes ./recipes

# Mount points for the operator's key (~/.ssh/tuneforge_ed25519 in a spec resolves here) and ~/.aws.
# 0755: the compose file may run the worker under the operator's uid so that a 0600 key stays readable.
RUN install -d -o node -g node -m 0755 /home/node/.ssh /home/node/.aws

# The image's `node` user, numerically (runAsNonRoot checks need a uid).
USER 1000:1000
ENV HOME=/home/node
CMD ["node", "lib/worker/main.js"]
