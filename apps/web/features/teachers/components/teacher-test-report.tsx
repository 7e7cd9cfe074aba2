"use client";
import type { TeacherView } from "../hooks/use-teachers.ts";

const SOURCE_LABEL: Record<string, string> = {
  reasoning_content: "a separate reasoning_content field",
  reasoning: "a separate reasoning field",
  thinking: "ollama's message.thinking",
  inline: "inline <think>…</think> in the content",
  none: "nowhere: the answer has no reasoning (is this a reasoning model?)",
};

/** What "Test connection" found. The teacher's text is untrusted: shown as text only. */
export function TeacherTestReport({ report }: { report: NonNullable<TeacherView["lastTest"]> }) {
  return (
    <div className="panel" data-testid="teacher-test-report">
      <div className="row">
        <span className={`badge ${report.isOk ? "ok" : "bad"}`}>{report.isOk ? "connected" : "failed"}</span>
        <span className="muted">tested {new Date(report.testedAt).toLocaleString()}</span>
      </div>
      {report.error && (
        <p className="error" data-testid="teacher-test-error">
          {report.error}
        </p>
      )}
      {report.models.length > 0 && (
        <p>
          Models: <span className="mono">{report.models.slice(0, 20).join(", ")}</span>
          {report.hasModel === false && (
            <span className="error"> — the configured model is not among them</span>
          )}
        </p>
      )}
      {report.latencyMs !== null && (
        <p data-testid="teacher-test-latency">
          One short request: {report.latencyMs} ms (first byte after {report.firstByteMs} ms)
          {report.usage && `, ${report.usage.promptTokens} tokens in, ${report.usage.completionTokens} out`}.
        </p>
      )}
      {report.reasoningSource && (
        <p data-testid="teacher-test-source">
          The reasoning came back in{" "}
          <strong>{SOURCE_LABEL[report.reasoningSource] ?? report.reasoningSource}</strong>.
        </p>
      )}
      {report.sample && (
        <>
          {report.sample.reasoning && (
            <details className="think">
              <summary>reasoning</summary>
              <pre>{report.sample.reasoning}</pre>
            </details>
          )}
          <pre className="sample-answer">{report.sample.answer}</pre>
        </>
      )}
    </div>
  );
}
