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
  // every response (pages get their CSP from proxy.ts, with a per-request nonce)
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "X-Frame-Options", value: "DENY" },
        ],
      },
    ];
  },
};

export default config;
