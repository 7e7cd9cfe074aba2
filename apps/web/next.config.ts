import type { NextConfig } from "next";

const config: NextConfig = {
  // internal packages are consumed from source: nothing goes stale in a dist/
  transpilePackages: ["@distillery/core", "@distillery/db", "@distillery/jobs"],
  serverExternalPackages: [
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "bullmq",
    "ioredis",
    "pino",
    "tar-stream",
  ],
  typedRoutes: false,
  poweredByHeader: false,
  outputFileTracingRoot: new URL("../..", import.meta.url).pathname,
};

export default config;
