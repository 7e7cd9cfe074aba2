import { z } from "zod";
import { createUpload } from "@/features/datasets/server/create-upload.ts";
import { isAllowedHost } from "@/lib/security/hosts.ts";
import { crossSiteReason } from "@/lib/security/policy.ts";
import { AppError, withRoute } from "@/lib/server/route.ts";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

/** The file is the raw request body (streamed to blob storage); its name is ?fileName= or X-File-Name. */
export const POST = withRoute({
  permission: "write",
  schemas: { query: z.object({ fileName: z.string().max(1000).optional() }) },
  handler: async ({ actor, req, query }) => {
    // the proxy skips this route (it would buffer and cut the body at 10 MiB): its checks run here
    const policy = {
      allowedHosts: process.env.DISTILLERY_ALLOWED_HOSTS,
      publicUrl: process.env.DISTILLERY_PUBLIC_URL,
    };
    const host = req.headers.get("host") ?? new URL(req.url).host;
    if (!isAllowedHost(host, policy))
      throw new AppError(
        "forbidden",
        `this studio does not answer for host ${host ?? "(none)"}: add it to DISTILLERY_ALLOWED_HOSTS`,
      );
    const forged = crossSiteReason(req, policy);
    if (forged) throw new AppError("forbidden", forged);
    return createUpload(actor, req, query.fileName);
  },
});
