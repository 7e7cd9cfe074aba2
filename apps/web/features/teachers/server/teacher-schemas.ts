import { ZBaseUrl, ZTeacherApi } from "@distillery/teacher";
import { z } from "zod";

/** What the Teachers page sends. The key is write-only: omitted keeps it, "" removes it. */
export const ZTeacherBody = z.object({
  name: z.string().trim().min(1, "name the teacher").max(100),
  api: ZTeacherApi.default("openai"),
  baseUrl: ZBaseUrl,
  model: z.string().trim().min(1, "enter the model name").max(300),
  apiKey: z.string().max(1000).optional(),
  priceInPerM: z.coerce.number().min(0).max(100_000).default(0),
  priceOutPerM: z.coerce.number().min(0).max(100_000).default(0),
});
export type TeacherBody = z.infer<typeof ZTeacherBody>;
export const ZTeacherPatch = ZTeacherBody.partial();
