import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { chatTemplateVariables, renderTemplate } from "./render-chat.ts";
import { builtinCorpus, CONVERSATIONS, loadCorpus, toSpec } from "./test-corpus.ts";

// Every template of the corpus × every conversation, rendered here and by Python Jinja2 set up
// as transformers does (scripts/render-jinja2.py, Debian's python3-jinja2): the text must be
// byte-identical, or both must fail (a raise_exception() with the same message).
const PYTHON = process.env.DISTILLERY_PYTHON ?? "/usr/bin/python3";
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/render-jinja2.py");
const NOW = [2026, 1, 15, 10, 30, 0] as const;

/**
 * Differences left, each with its reason. The test fails on any difference not listed here and
 * on any listed one that no longer differs, so the list stays true.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {};

type PyResult = { text: string } | { error: string; message: string };
type JsResult = { text: string } | { error: string };

function renderAllInPython(cases: { template: string; vars: Record<string, unknown> }[]): PyResult[] {
  if (!existsSync(PYTHON))
    throw new Error(`${PYTHON} not found: install Debian's python3 and python3-jinja2`);
  const run = spawnSync(PYTHON, [SCRIPT], {
    input: JSON.stringify({ now: NOW, cases }),
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  if (run.status === 3)
    throw new Error(
      "python3-jinja2 is missing: `apt-get install python3-jinja2` (npm test installs it as root on Debian)",
    );
  if (run.status !== 0) throw new Error(`render-jinja2.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as PyResult[];
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: python ${JSON.stringify(a.slice(i, i + 40))} vs ours ${JSON.stringify(b.slice(i, i + 40))}`;
}

describe("chat templates render exactly as transformers (Python Jinja2) renders them", () => {
  const corpus = loadCorpus();
  // the studio's built-in templates too (those not already in the corpus, by text)
  const texts = new Set(corpus.map((t) => t.template));
  const templates = [...corpus, ...builtinCorpus().filter((t) => !texts.has(t.template))];
  const cases = templates.flatMap((t) =>
    CONVERSATIONS.map((c) => ({
      key: `${t.id} × ${c.id}`,
      template: t.template,
      vars: chatTemplateVariables(toSpec(t), c.messages, c.options),
    })),
  );

  beforeAll(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date(NOW[0], NOW[1] - 1, NOW[2], NOW[3], NOW[4], NOW[5]));
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it("has a corpus of at least 150 distinct real templates", () => {
    expect(new Set(corpus.map((t) => t.template)).size).toBe(corpus.length);
    expect(corpus.length).toBeGreaterThanOrEqual(150);
  });

  it("renders every template × conversation byte-identically, or fails where Python fails", () => {
    const python = renderAllInPython(cases.map(({ template, vars }) => ({ template, vars })));
    expect(python).toHaveLength(cases.length);
    let identical = 0;
    let sameError = 0;
    const differences: string[] = [];
    cases.forEach((c, i) => {
      const py = python[i] as PyResult;
      let ours: JsResult;
      try {
        ours = { text: renderTemplate(c.template, c.vars) };
      } catch (e) {
        ours = { error: (e as Error).message };
      }
      if ("text" in py && "text" in ours) {
        if (py.text === ours.text) identical++;
        else differences.push(`${c.key}: ${firstDifference(py.text, ours.text)}`);
      } else if ("error" in py && "error" in ours) {
        // raise_exception() messages are the template's own words: they must match
        if (py.error === "TemplateError" && py.message !== ours.error)
          differences.push(
            `${c.key}: python raised ${JSON.stringify(py.message)}, ours ${JSON.stringify(ours.error)}`,
          );
        else sameError++;
      } else if ("error" in py) {
        differences.push(`${c.key}: python fails (${py.error}: ${py.message}), ours renders`);
      } else {
        differences.push(`${c.key}: python renders, ours fails (${(ours as { error: string }).error})`);
      }
    });
    const unexpected = differences.filter((d) => !(d.slice(0, d.indexOf(":")) in KNOWN_DIFFERENCES));
    const stale = Object.keys(KNOWN_DIFFERENCES).filter(
      (k) => !differences.some((d) => d.startsWith(`${k}:`)),
    );
    console.log(
      `template parity: ${templates.length} templates (${corpus.length} of the corpus, ${templates.length - corpus.length} built-in) × ${CONVERSATIONS.length} conversations = ${cases.length} renders; ` +
        `${identical} identical, ${sameError} fail in both, ${differences.length} differ (${differences.length - unexpected.length} known)`,
    );
    expect(unexpected, unexpected.slice(0, 30).join("\n")).toEqual([]);
    expect(stale).toEqual([]);
  }, 300_000);
});
