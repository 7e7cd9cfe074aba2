import { ZRunConfig } from "@distillery/core";
import type { z } from "zod";

/**
 * What a run-config field is, read from the zod schema itself: the control it needs (a number,
 * a choice among the enum's values, a switch, text, a list), its bounds and its default. The
 * form describes each field once (label, hint) and one component renders it from this.
 */
export type FieldControl =
  | { kind: "number"; min?: number; max?: number; isInt: boolean }
  | { kind: "select"; options: string[] }
  | { kind: "checkbox" }
  | { kind: "text" }
  | { kind: "list" };

interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
  element?: z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strips default / optional / nullable wrappers down to the value's own schema. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (let i = 0; i < 10; i++) {
    const def = defOf(s);
    if (
      (def.type === "default" ||
        def.type === "optional" ||
        def.type === "nullable" ||
        def.type === "prefault") &&
      def.innerType
    )
      s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The schema at a dotted path of an object schema ("training.learningRate"). */
export function schemaAt(root: z.ZodType, path: string): z.ZodType | undefined {
  let cur: z.ZodType | undefined = root;
  for (const key of path.split(".")) {
    if (!cur) return undefined;
    const def = defOf(unwrap(cur));
    cur = def.type === "object" ? def.shape?.[key] : undefined;
  }
  return cur;
}

export function controlFor(schema: z.ZodType): FieldControl {
  const s = unwrap(schema);
  const def = defOf(s);
  switch (def.type) {
    case "number": {
      const n = s as unknown as { minValue: number | null; maxValue: number | null; isInt: boolean };
      return {
        kind: "number",
        ...(Number.isFinite(n.minValue) && n.minValue !== null ? { min: n.minValue } : {}),
        ...(Number.isFinite(n.maxValue) && n.maxValue !== null ? { max: n.maxValue } : {}),
        isInt: Boolean(n.isInt),
      };
    }
    case "enum":
      return { kind: "select", options: [...(s as unknown as { options: string[] }).options] };
    case "boolean":
      return { kind: "checkbox" };
    case "array":
      return { kind: "list" };
    default:
      return { kind: "text" };
  }
}

/** The control of a run-config field, by path; throws for a path the schema lacks (a typo). */
export function runConfigControl(path: string): FieldControl {
  const s = schemaAt(ZRunConfig, path);
  if (!s) throw new Error(`the run config has no field ${path}`);
  return controlFor(s);
}
