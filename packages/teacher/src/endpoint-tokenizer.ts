import { idToTokenOf } from "@distillery/core";
import { readText, sendRequest } from "./http-send.ts";
import { endpointUrl, type TeacherEndpoint } from "./teacher-endpoint.ts";
import { TeacherError } from "./teacher-error.ts";

/**
 * Does a teacher endpoint share the student's tokenizer? Logit and on-policy distillation compare
 * distributions id by id, and an endpoint ships no tokenizer.json. The endpoint's own tokenizer
 * is asked through vLLM's `POST /tokenize` (at the server root, beside /v1; the studio's serving
 * has it too) with `return_token_strs`: a probe text — every special / added token of the
 * student, the chat markers, digits, punctuation, accents, CJK, emoji, code — must come back as
 * the same ids AND the same vocabulary strings as the student's tokenizer gives. Same ids for
 * the same strings over that probe is what the loss needs; a different family fails on the
 * first differing token, which the error names. (It cannot prove that ids the probe never meets
 * agree: see the README.)
 */
export interface EndpointTokenizerDifference {
  /** index in the probe's token sequence */
  position: number;
  student: { id: number | undefined; token: string | undefined };
  teacher: { id: number | undefined; token: string | undefined };
}

export interface StudentTokenizer {
  json: unknown;
  encode(text: string, addSpecialTokens?: boolean): number[];
  decode(ids: number[], skipSpecialTokens?: boolean): string;
}

/** vocabulary entries the probe spells out: spread over the whole range, and the last ones */
const VOCAB_SAMPLE = 768;
const VOCAB_TAIL = 64;

const PROBE_TEXT =
  " The answer is 12,345.67 (i.e. 1/8 ≈ 0.125) — résumé, naïve, Straße; 東京 你好 こんにちは 🙂👍\n\tdef f(x):\n\t\treturn x ** 2  # comment\n<think>step 1: 7 × 8 = 56</think> \\boxed{56}";

/**
 * The probe: the student's added tokens (chat markers, <think>), a varied text, and the text of
 * vocabulary entries spread over the whole id range and its end — so the teacher must have the
 * same merges (the same ids for the same pieces) there too, not only the same bytes.
 */
export function tokenizerProbeText(student: StudentTokenizer): string {
  const added = ((student.json as { added_tokens?: { content: string }[] }).added_tokens ?? [])
    .map((a) => a.content)
    .slice(0, 200);
  const size = idToTokenOf(student.json).length;
  const ids = new Set<number>();
  const stride = Math.max(1, Math.floor(size / VOCAB_SAMPLE));
  for (let id = 0; id < size; id += stride) ids.add(id);
  for (let id = Math.max(0, size - VOCAB_TAIL); id < size; id++) ids.add(id);
  const addedSet = new Set(added);
  const pieces = [...ids]
    .map((id) => student.decode([id], false))
    .filter((t) => t.trim() !== "" && !t.includes("\uFFFD") && !addedSet.has(t));
  return `${added.join(" ")}${PROBE_TEXT}\n${pieces.join(" ")}${added.length ? ` ${added.join("")}` : ""}`;
}

/** the server root of an OpenAI-compatible base URL (".../v1" → "..."): vLLM serves /tokenize there */
function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
}

/**
 * Compares the endpoint's tokenizer with the student's on the probe. Null when they agree;
 * else the first differing token. Throws a TeacherError when the endpoint cannot say (no
 * /tokenize, unreachable): the caller refuses the run then, naming the reason.
 */
export async function compareEndpointTokenizer(
  endpoint: TeacherEndpoint,
  student: StudentTokenizer,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<EndpointTokenizerDifference | null> {
  const text = tokenizerProbeText(student);
  const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 30_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  let status = 0;
  let body: { tokens?: unknown; token_strs?: unknown } = {};
  // vLLM serves /tokenize at its root; the studio's web serving beside /v1: root first, then /v1
  const urls = [
    endpointUrl(serverRoot(endpoint.baseUrl), "/tokenize"),
    endpointUrl(endpoint.baseUrl, "/tokenize"),
  ];
  try {
    for (const url of [...new Set(urls)]) {
      const res = await sendRequest(url, {
        method: "POST",
        headers,
        body: JSON.stringify({
          model: endpoint.model,
          prompt: text,
          add_special_tokens: false,
          return_token_strs: true,
        }),
        signal,
      });
      status = res.statusCode ?? 0;
      const raw = await readText(res);
      if (status >= 200 && status < 300) {
        body = JSON.parse(raw);
        break;
      }
      // not served there: 404/405, or a redirect (a web app's sign-in page at the root, as the
      // studio's own server answers /tokenize outside /v1): ask the next place
      if (status !== 404 && status !== 405 && (status < 300 || status >= 400)) break;
    }
  } catch (e) {
    throw new TeacherError(
      "network",
      `teacher "${endpoint.name}": its tokenizer could not be asked (POST /tokenize: ${(e as Error).name === "SyntaxError" ? "not JSON" : ((e as { code?: string }).code ?? (e as Error).message)})`,
    );
  }
  if (status === 401 || status === 403)
    throw new TeacherError("auth", `teacher "${endpoint.name}" rejected the API key (HTTP ${status})`, {
      status,
    });
  if (status < 200 || status >= 300)
    throw new TeacherError(
      "not_a_teacher",
      `teacher "${endpoint.name}" has no usable POST /tokenize (HTTP ${status}), so the studio cannot check that it shares the student's tokenizer; logit and on-policy distillation need an endpoint that has it (vLLM does)`,
      { status },
    );
  const ids = Array.isArray(body.tokens) ? (body.tokens as number[]) : null;
  if (!ids)
    throw new TeacherError(
      "malformed",
      `teacher "${endpoint.name}": POST /tokenize answered without \`tokens\``,
    );
  const strs = Array.isArray(body.token_strs) ? (body.token_strs as (string | null)[]) : null;
  const mine = student.encode(text, false);
  const vocab = idToTokenOf(student.json);
  const n = Math.max(mine.length, ids.length);
  for (let p = 0; p < n; p++) {
    const a = mine[p];
    const b = ids[p];
    const aStr = a === undefined ? undefined : vocab[a];
    const bStr = strs ? (strs[p] ?? undefined) : b === undefined ? undefined : vocab[b];
    if (a !== b || aStr !== bStr)
      return { position: p, student: { id: a, token: aStr }, teacher: { id: b, token: bStr } };
  }
  return null;
}

/** The refusal, like the local check's: both tokenizers and the first differing token. */
export function describeEndpointTokenizerDifference(
  d: EndpointTokenizerDifference,
  names: { student: string; teacher: string },
): string {
  const show = (s: { id: number | undefined; token: string | undefined }) =>
    s.id === undefined
      ? "(nothing)"
      : `id ${s.id} ${s.token === undefined ? "(none)" : JSON.stringify(s.token)}`;
  return `the student (${names.student}) and the teacher (${names.teacher}) have different tokenizers: token ${d.position} of the probe text is ${show(d.student)} in the student and ${show(d.teacher)} in the teacher`;
}
