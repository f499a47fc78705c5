# syntax=docker/dockerfile:1
# Gatekeeper: one image, three roles (docker-compose.yml runs `--role gateway|smtp|worker`).

# ---- build: compile TypeScript to dist/ -------------------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY rules ./rules
COPY store ./store
COPY channels ./channels
COPY gateway ./gateway
COPY workers ./workers
COPY config ./config
COPY bin ./bin
# tsc emits only .js: copy every other source file (Lua scripts, the console's static files, …) beside it,
# where the code looks for it first (`join(__dirname, …)`).
RUN npm run build \
 && find rules store channels gateway workers config bin -type f ! -name '*.ts' -exec cp --parents {} dist/ \;

# ---- runtime: production dependencies and dist/ only, as an unprivileged user -----------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# DATA_DIR (./var): outbound .eml files when SMTP_RELAY_URL is unset. Owned by `node` so that a named
# volume mounted here starts writable.
RUN mkdir -p /app/var && chown node:node /app/var
USER node
EXPOSE 3000 2525
# Meaningful for the roles that serve HTTP (gateway, all); docker-compose.yml overrides it for smtp and worker.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
CMD ["node", "dist/bin/gatekeeper.js"]
