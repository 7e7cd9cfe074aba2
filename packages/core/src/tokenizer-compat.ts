/**
 * Whether two tokenizers give every id the same token, read from their tokenizer.json objects:
 * logit and on-policy distillation compare the teacher's and the student's distributions id by
 * id, so they must. `studentExtra` are the run's special tokens, appended to the student's
 * vocabulary (as the engines add them) when it does not have them yet.
 */
export function idToTokenOf(tokenizerJson: unknown): string[] {
  const out: string[] = [];
  const json = (tokenizerJson ?? {}) as {
    model?: { vocab?: Record<string, number> | [string, number][] };
    added_tokens?: { id: number; content: string }[];
  };
  const vocab = json.model?.vocab;
  if (Array.isArray(vocab))
    vocab.forEach(([token], id) => {
      out[id] = token;
    });
  else if (vocab) for (const [token, id] of Object.entries(vocab)) out[id] = token;
  for (const a of json.added_tokens ?? []) out[a.id] = a.content;
  return out;
}

export interface TokenizerDifference {
  id: number;
  student: string | undefined;
  teacher: string | undefined;
}

export function firstTokenizerDifference(
  studentJson: unknown,
  teacherJson: unknown,
  studentExtra: string[] = [],
): TokenizerDifference | null {
  const student = idToTokenOf(studentJson);
  const known = new Set(student);
  for (const t of studentExtra) if (!known.has(t)) student.push(t);
  const teacher = idToTokenOf(teacherJson);
  const n = Math.max(student.length, teacher.length);
  for (let id = 0; id < n; id++)
    if (student[id] !== teacher[id]) return { id, student: student[id], teacher: teacher[id] };
  return null;
}

export function describeTokenizerDifference(
  d: TokenizerDifference,
  names: { student: string; teacher: string },
): string {
  const show = (v: string | undefined) => (v === undefined ? "(none)" : JSON.stringify(v));
  return `the student (${names.student}) and the teacher (${names.teacher}) have different tokenizers: id ${d.id} is ${show(d.student)} in the student and ${show(d.teacher)} in the teacher`;
}
