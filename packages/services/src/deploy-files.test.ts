import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

// Docker cannot run on the machines this is developed on; these checks catch what reading can.
const ROOT = join(import.meta.dirname, "..", "..", "..");
interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
}
const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};

describe("docker-compose.yml", () => {
  it("has postgres, redis, minio, web, worker and a gpu-worker behind a profile", () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(["postgres", "redis", "minio", "web", "worker", "gpu-worker"]),
    );
    expect(compose.services["gpu-worker"]?.profiles).toEqual(["gpu"]);
  });

  it("depends only on services it defines, and gives every app the settings its env parser requires", () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const dep of Object.keys(service.depends_on ?? {}))
        expect(compose.services, `${name} → ${dep}`).toHaveProperty(dep);
      if (["web", "worker", "gpu-worker", "migrate"].includes(name)) {
        expect(service.environment?.DATABASE_URL, name).toMatch(/^postgresql:\/\/.+@postgres:5432\//);
        expect(service.environment?.REDIS_URL, name).toBe("redis://redis:6379");
        expect(service.environment?.S3_BUCKET, name).toBeTruthy();
      }
    }
  });

  it("builds from Dockerfiles that exist and runs scripts that exist", () => {
    for (const service of Object.values(compose.services)) {
      if (!service.build) continue;
      const dockerfile =
        typeof service.build === "string" ? "Dockerfile" : (service.build.dockerfile ?? "Dockerfile");
      expect(existsSync(join(ROOT, dockerfile)), dockerfile).toBe(true);
    }
    const scripts = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<
      string,
      string
    >;
    expect(compose.services.migrate?.command).toEqual(["npm", "run", "db:migrate"]);
    expect(scripts["db:migrate"]).toBeTruthy();
    for (const app of ["apps/web", "apps/worker"]) {
      expect(
        JSON.parse(readFileSync(join(ROOT, app, "package.json"), "utf8")).scripts.start,
        app,
      ).toBeTruthy();
    }
  });
});
