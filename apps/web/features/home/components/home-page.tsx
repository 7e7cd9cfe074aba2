"use client";
import Link from "next/link";
import { formatDuration } from "../../runs/lib/launch-summary.ts";
import { useHome } from "../hooks/use-home.ts";
import type { HomeView } from "../server/get-home.ts";

/** Home: first steps for a new workspace, then what is running, waiting, and recently finished. */
export function HomePage() {
  const home = useHome();
  if (home.error) return <p className="error">Could not load the home page: {home.error.message}</p>;
  if (!home.data) return <p className="muted">Loading…</p>;
  const { running, recent, queue, firstSteps } = home.data;
  return (
    <>
      {firstSteps.isNewWorkspace && <FirstSteps steps={firstSteps} />}
      <div className="row between">
        <h2>Running</h2>
        <Link className="button" href="/runs/new">
          New run
        </Link>
      </div>
      <div className="panel" data-testid="home-running">
        {running.length === 0 ? (
          <p className="muted">Nothing is training right now.</p>
        ) : (
          running.map((r) => <RunningRow key={r.id} run={r} />)
        )}
      </div>
      <h2>Queue</h2>
      <div className="panel" data-testid="home-queue">
        {queue.waiting === 0 ? (
          <p className="muted">No run is waiting: a new one starts as soon as a worker is free.</p>
        ) : (
          <>
            <p>
              {queue.waiting} waiting (
              {Object.entries(queue.byEngine)
                .map(([e, n]) => `${n} ${e === "hf" ? "GPU" : "CPU"}`)
                .join(", ")}
              ) · <Link href="/queue">the whole queue</Link>
            </p>
            <ol>
              {queue.next.map((r) => (
                <li key={r.id}>
                  <Link href={`/runs/${r.id}`}>{r.name}</Link> <span className="muted">{r.engine}</span>
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
      <h2>Recent runs</h2>
      <div className="panel" data-testid="home-recent">
        {recent.length === 0 ? (
          <p className="muted">No run has finished yet.</p>
        ) : (
          <table>
            <tbody>
              {recent.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                    <div className="muted small">
                      {r.baseModel.name} · {r.dataset.name}
                    </div>
                  </td>
                  <td>
                    <span className={`badge ${r.status}`}>{r.status}</span>
                  </td>
                  <td className="mono">{r.final.loss !== null ? `loss ${r.final.loss.toFixed(3)}` : ""}</td>
                  <td className="muted">{r.finishedAt ? new Date(r.finishedAt).toLocaleString() : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

function RunningRow({ run }: { run: HomeView["running"][number] }) {
  const { step, totalSteps, phase } = run.progress;
  const pct = totalSteps ? Math.min(100, (step / totalSteps) * 100) : 0;
  const elapsed = run.startedAt ? (Date.now() - Date.parse(run.startedAt)) / 1000 : null;
  return (
    <div className="progress-line" data-testid="home-running-run">
      <Link href={`/runs/${run.id}`}>{run.name}</Link>
      <div
        className="progress"
        role="progressbar"
        aria-label={`Progress of ${run.name}`}
        aria-valuenow={Math.round(pct)}
        aria-valuemin={0}
        aria-valuemax={100}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="muted">
        {phase ?? run.status}
        {totalSteps ? ` · step ${step.toLocaleString("en-US")}/${totalSteps.toLocaleString("en-US")}` : ""}
        {elapsed !== null ? ` · ${formatDuration(elapsed)} in` : ""} · {run.engine}
        {run.worker ? ` on ${run.worker.host}` : ""}
      </span>
    </div>
  );
}

function FirstSteps({ steps }: { steps: HomeView["firstSteps"] }) {
  const items = [
    {
      id: "demo",
      title: "Watch the demo run",
      done: steps.demoRun?.status === "succeeded",
      body: steps.demoRun
        ? "A tiny student learns column addition from a teacher's reasoning traces, on this machine's CPU: loss, samples with their <think> part, and a before/after evaluation."
        : "The demo was not seeded in this workspace (DISTILLERY_SEED_DEMO=0); start the studio with it to watch one.",
      href: steps.demoRun ? `/runs/${steps.demoRun.id}` : null,
      action: steps.demoRun
        ? steps.demoRun.status === "succeeded"
          ? "See how it went"
          : "Watch it train"
        : null,
    },
    {
      id: "dataset",
      title: "Bring a dataset",
      done: steps.hasOwnDataset,
      body: "Upload reasoning traces (JSONL, JSON, CSV, Parquet) or import a set from the Hub; the studio finds prompts, reasoning and answers.",
      href: "/datasets/new",
      action: "Add a dataset",
    },
    {
      id: "model",
      title: "Add a model",
      done: steps.hasOwnModel,
      body: "The student to train: a Hub id (e.g. HuggingFaceTB/SmolLM2-135M-Instruct), a folder to upload, or a path on a worker.",
      href: "/models",
      action: "Add a model",
    },
  ];
  return (
    <section aria-labelledby="first-steps" data-testid="first-steps">
      <h2 id="first-steps">First steps</h2>
      <div className="grid">
        {items.map((s, i) => (
          <div key={s.id} className="panel" data-testid={`first-step-${s.id}`}>
            <div className="panel-title">
              {s.done ? "✓" : `${i + 1}.`} {s.title}
            </div>
            <p className="muted">{s.body}</p>
            {s.href && s.action && (
              <Link className="button" href={s.href}>
                {s.action}
              </Link>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}
