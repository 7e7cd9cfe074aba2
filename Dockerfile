# The web app and the CPU worker: one image, two commands (see docker-compose.yml).
#   docker build -t distillery .
# Packages are consumed from source (tsx for the worker, transpilePackages for Next.js).
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1
COPY . .
RUN npm ci --no-audit --no-fund \
 && node scripts/prisma-generate.mjs \
 && npm run build -w packages/engine-local \
 && DATABASE_URL=postgresql://build@localhost/build REDIS_URL=redis://localhost:6379 npm run build -w apps/web

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 DISTILLERY_DATA_DIR=/data
COPY --from=build /app /app
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
# web: `npm run start -w apps/web`; worker: `npm run start -w apps/worker`; migrations: `npm run db:migrate`
CMD ["npm", "run", "start", "-w", "apps/web"]
