"use client";
import { useQuery } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useTeachers } from "@/features/teachers/hooks/use-teachers.ts";
import { ApiError, fetchJson } from "@/lib/client/api.ts";
import { useCreateGeneration } from "../hooks/use-generations.ts";
import { detectColumns } from "../lib/detect-columns.ts";

const R1_INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";
const VERSION_COLUMNS = ["prompt", "answer", "reference", "reasoning", "system"] as const;
type VersionColumn = (typeof VERSION_COLUMNS)[number];

interface VersionOption {
  id: string;
  label: string;
  rows: number;
}

const versionKeys = { ready: ["generations", "ready-versions"] as const };

/**
 * "Generate with a teacher": prompts from a dataset version or pasted / uploaded, the teacher,
 * and sampling with DeepSeek's R1 defaults (temperature 0.6, top-p 0.95, no system prompt).
 */
export function NewGenerationForm({ versionId, teacherId }: { versionId?: string; teacherId?: string }) {
  const router = useRouter();
  const teachers = useTeachers();
  const versions = useQuery({
    queryKey: versionKeys.ready,
    queryFn: () => fetchJson<{ versions: VersionOption[] }>("/api/dataset-versions"),
  });
  const create = useCreateGeneration();
  const [kind, setKind] = useState<"version" | "prompts">(versionId ? "version" : "prompts");
  const [chosenVersion, setChosenVersion] = useState(versionId ?? "");
  const [versionPrompt, setVersionPrompt] = useState<VersionColumn>("prompt");
  const [versionReference, setVersionReference] = useState<VersionColumn | "">("reference");
  const [text, setText] = useState("");
  const [fileName, setFileName] = useState<string | undefined>();
  const [promptColumn, setPromptColumn] = useState("prompt");
  const [referenceColumn, setReferenceColumn] = useState("");
  const [chosenTeacher, setChosenTeacher] = useState(teacherId ?? "");
  const [instruction, setInstruction] = useState(R1_INSTRUCTION);
  const [temperature, setTemperature] = useState(0.6);
  const [topP, setTopP] = useState(0.95);
  const [maxTokens, setMaxTokens] = useState(4096);
  const [samples, setSamples] = useState(1);
  const [rejection, setRejection] = useState(0);
  const [keepOnlyVerified, setKeepOnlyVerified] = useState(true);
  const [concurrency, setConcurrency] = useState(16);
  const [rpm, setRpm] = useState("");
  const [tpm, setTpm] = useState("");
  const [outputName, setOutputName] = useState("");
  const columns = kind === "prompts" ? detectColumns(text, fileName) : [];
  const teacherList = teachers.data?.teachers ?? [];
  const teacher = chosenTeacher || teacherList[0]?.id || "";
  const err = create.error instanceof ApiError ? create.error : null;
  const fieldError = (f: string) =>
    err?.errors.find((e) => e.field === f || e.field.startsWith(`${f}.`))?.message;

  const onFile = async (file: File | undefined) => {
    if (!file) return;
    const content = await file.text();
    setText(content);
    setFileName(file.name);
    const cols = detectColumns(content, file.name);
    const prompt =
      cols.find((c) => /^(prompt|question|problem|instruction|input)$/i.test(c)) ?? cols[0] ?? "prompt";
    setPromptColumn(prompt);
    setReferenceColumn(cols.find((c) => /^(answer|reference|solution|target)$/i.test(c)) ?? "");
  };

  const submit = () => {
    const source =
      kind === "version"
        ? {
            kind: "version" as const,
            versionId: chosenVersion,
            promptColumn: versionPrompt,
            referenceColumn: versionReference || null,
          }
        : {
            kind: "prompts" as const,
            text,
            ...(fileName ? { fileName } : {}),
            promptColumn,
            referenceColumn: referenceColumn || null,
          };
    create.mutate(
      {
        teacherId: teacher,
        source,
        sampling: { temperature, topP, maxTokens, instruction },
        samplesPerPrompt: samples,
        rejectionAttempts: rejection,
        keepOnlyVerified,
        concurrency,
        requestsPerMinute: rpm ? Number(rpm) : null,
        tokensPerMinute: tpm ? Number(tpm) : null,
        ...(outputName.trim() ? { outputDatasetName: outputName.trim() } : {}),
      },
      { onSuccess: (job) => router.push(`/generations/${job.id}`) },
    );
  };

  return (
    <form
      className="panel"
      data-testid="new-generation-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h3 className="panel-title">Prompts</h3>
      <div className="row">
        <label>
          <input type="radio" checked={kind === "version"} onChange={() => setKind("version")} /> a dataset
          version
        </label>
        <label>
          <input
            type="radio"
            checked={kind === "prompts"}
            onChange={() => setKind("prompts")}
            data-testid="source-prompts"
          />{" "}
          pasted or uploaded prompts
        </label>
      </div>
      {kind === "version" ? (
        <div className="grid">
          <div className="field">
            <label htmlFor="g-version">Dataset version</label>
            <select id="g-version" value={chosenVersion} onChange={(e) => setChosenVersion(e.target.value)}>
              <option value="">pick a version</option>
              {(versions.data?.versions ?? []).map((v) => (
                <option key={v.id} value={v.id}>
                  {v.label} ({v.rows.toLocaleString()} rows)
                </option>
              ))}
            </select>
            {fieldError("body.source.versionId") && (
              <span className="error">{fieldError("body.source.versionId")}</span>
            )}
          </div>
          <div className="field">
            <label htmlFor="g-vprompt">Prompt column</label>
            <select
              id="g-vprompt"
              value={versionPrompt}
              onChange={(e) => setVersionPrompt(e.target.value as VersionColumn)}
            >
              {VERSION_COLUMNS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="g-vref">Reference answer column (optional)</label>
            <select
              id="g-vref"
              value={versionReference}
              onChange={(e) => setVersionReference(e.target.value as VersionColumn | "")}
            >
              <option value="">none</option>
              {VERSION_COLUMNS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </div>
        </div>
      ) : (
        <>
          <div className="field">
            <label htmlFor="g-text">Prompts: one a line, or JSONL / JSON / CSV</label>
            <textarea
              id="g-text"
              rows={8}
              value={text}
              data-testid="prompts-text"
              onChange={(e) => {
                setText(e.target.value);
                setFileName(undefined);
              }}
              placeholder={'What is 47 + 85?\nor {"question": "…", "answer": "…"} per line'}
            />
            {fieldError("body.source.text") && (
              <span className="error">{fieldError("body.source.text")}</span>
            )}
          </div>
          <div className="row">
            <input
              type="file"
              accept=".jsonl,.json,.csv,.tsv,.txt"
              onChange={(e) => void onFile(e.target.files?.[0])}
            />
            {fileName && <span className="muted">{fileName}</span>}
          </div>
          <div className="grid">
            <div className="field">
              <label htmlFor="g-pcol">Prompt column</label>
              <input
                id="g-pcol"
                list="g-cols"
                value={promptColumn}
                onChange={(e) => setPromptColumn(e.target.value)}
              />
              {fieldError("body.source.promptColumn") && (
                <span className="error" data-testid="prompt-column-error">
                  {fieldError("body.source.promptColumn")}
                </span>
              )}
            </div>
            <div className="field">
              <label htmlFor="g-rcol">Reference answer column (optional)</label>
              <input
                id="g-rcol"
                list="g-cols"
                value={referenceColumn}
                onChange={(e) => setReferenceColumn(e.target.value)}
              />
              {fieldError("body.source.referenceColumn") && (
                <span className="error">{fieldError("body.source.referenceColumn")}</span>
              )}
            </div>
            <datalist id="g-cols">
              {columns.map((c) => (
                <option key={c} value={c} />
              ))}
            </datalist>
          </div>
        </>
      )}

      <h3 className="panel-title">Teacher and sampling</h3>
      <div className="grid">
        <div className="field">
          <label htmlFor="g-teacher">Teacher</label>
          <select id="g-teacher" value={teacher} onChange={(e) => setChosenTeacher(e.target.value)}>
            {teacherList.length === 0 && <option value="">no teacher: add one on the Teachers page</option>}
            {teacherList.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name} ({t.model})
              </option>
            ))}
          </select>
          {fieldError("body.teacherId") && (
            <span className="error" data-testid="teacher-error">
              {fieldError("body.teacherId")}
            </span>
          )}
        </div>
        <div className="field">
          <label htmlFor="g-instr">Instruction added to each prompt (optional)</label>
          <input id="g-instr" value={instruction} onChange={(e) => setInstruction(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="g-temp">Temperature</label>
          <input
            id="g-temp"
            type="number"
            step="0.05"
            min={0}
            max={2}
            value={temperature}
            onChange={(e) => setTemperature(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-topp">Top-p</label>
          <input
            id="g-topp"
            type="number"
            step="0.01"
            min={0.01}
            max={1}
            value={topP}
            onChange={(e) => setTopP(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-max">Max tokens</label>
          <input
            id="g-max"
            type="number"
            min={1}
            value={maxTokens}
            onChange={(e) => setMaxTokens(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-samples">Samples per prompt</label>
          <input
            id="g-samples"
            type="number"
            min={1}
            max={64}
            value={samples}
            onChange={(e) => setSamples(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-rej">Rejection sampling: attempts per prompt until one verifies (0: off)</label>
          <input
            id="g-rej"
            type="number"
            min={0}
            max={64}
            value={rejection}
            onChange={(e) => setRejection(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-conc">Concurrency</label>
          <input
            id="g-conc"
            type="number"
            min={1}
            max={512}
            value={concurrency}
            onChange={(e) => setConcurrency(Number(e.target.value))}
          />
        </div>
        <div className="field">
          <label htmlFor="g-rpm">Requests / minute (optional)</label>
          <input id="g-rpm" type="number" min={1} value={rpm} onChange={(e) => setRpm(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="g-tpm">Tokens / minute (optional)</label>
          <input id="g-tpm" type="number" min={1} value={tpm} onChange={(e) => setTpm(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="g-out">Result dataset name (optional)</label>
          <input id="g-out" value={outputName} onChange={(e) => setOutputName(e.target.value)} />
        </div>
      </div>
      <label className="row">
        <input
          type="checkbox"
          checked={keepOnlyVerified}
          onChange={(e) => setKeepOnlyVerified(e.target.checked)}
        />{" "}
        keep only verified rows (answer matches the reference, think block well-formed, not truncated, not a
        duplicate)
      </label>
      {create.error && (
        <p className="error" data-testid="generation-error">
          {create.error.message}
        </p>
      )}
      <button type="submit" disabled={create.isPending || !teacher} data-testid="start-generation">
        {create.isPending ? "Checking the teacher…" : "Start generating"}
      </button>
    </form>
  );
}
