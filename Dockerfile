# cvm's image: `node dist/cli/main.js <role>` as a non-root user, production dependencies only.
# Build: docker build -t ghcr.io/cvm-dev/cvm:0.1.0 .
# test/install/production-install.test.ts runs the same steps without Docker (npm pack, npm ci
# --omit=dev) and rolls out an image with the result, so no runtime dependency hides in
# devDependencies.

# 1. Compile TypeScript (needs the devDependencies).
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# 2. Production dependencies only (no build scripts needed: dist comes from stage 1).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. The runtime: what `npm pack` ships (package.json, bin, dist, infra) and node_modules.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY infra ./infra
# Numeric, so the kubelet can check runAsNonRoot (infra/kubernetes runs it as 10001 too).
USER 10001:10001
EXPOSE 8080 8081
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
