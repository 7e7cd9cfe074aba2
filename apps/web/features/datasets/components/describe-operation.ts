/** One line for a version's operation JSON (import, filter, split). */
export function describeOperation(op: Record<string, unknown>): string {
  switch (op.kind) {
    case "import": {
      const s = (op.source ?? {}) as Record<string, unknown>;
      const from =
        s.kind === "hub"
          ? `Hub ${String(s.dataset)}${s.config ? `/${String(s.config)}` : ""}:${String(s.split)}`
          : String(s.fileName ?? "upload");
      return `import of ${from} (${String(op.policy ?? "skip")} bad rows)`;
    }
    case "filter": {
      const filters = (op.filters ?? []) as Record<string, unknown>[];
      return `filter: ${filters
        .map((f) => {
          if (f.type === "maxTokens") return `max ${String(f.max)} tokens`;
          if (f.type === "dedupe") return `${String(f.mode)} dedupe`;
          if (f.type === "think") return `drop ${(f.drop as string[]).join("/")} think`;
          if (f.type === "regex") return `${String(f.action)} /${String(f.pattern)}/`;
          if (f.type === "sample") return `sample ${String(f.n)}`;
          if (f.type === "answerMatch") return "answer matches reference";
          return String(f.type);
        })
        .join(", ")}`;
    }
    case "split":
      return `split ${String(op.side)} (test ${Math.round(Number(op.testFraction) * 100)}%, seed ${String(op.seed)})`;
    default:
      return String(op.kind ?? "unknown");
  }
}
