import {
  BUILTIN_TEMPLATES,
  type CanonicalExample,
  type ChatTemplateSpec,
  highlightSpecialTokens,
  type TextSpan,
  toEngineExample,
} from "@distillery/core";

export const TEMPLATE_OPTIONS = Object.values(BUILTIN_TEMPLATES).map((t) => ({ id: t.id, label: t.label }));

export function getTemplateSpec(id: string): ChatTemplateSpec {
  return (BUILTIN_TEMPLATES as Record<string, ChatTemplateSpec>)[id] ?? BUILTIN_TEMPLATES.phi3;
}

/**
 * A canonical example rendered exactly as the engine will train on it (prompt + completion from
 * toEngineExample), cut into spans with the template's special tokens marked. Spans are shown
 * as text nodes only: dataset text is untrusted.
 */
export function renderExample(
  example: CanonicalExample,
  templateId: string,
): { spans: TextSpan[]; promptLength: number } | { error: string } {
  const spec = getTemplateSpec(templateId);
  try {
    const { prompt, completion } = toEngineExample(example, spec);
    return {
      spans: highlightSpecialTokens(prompt + completion, spec.specialTokens),
      promptLength: prompt.length,
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}
