import { EchoPanel } from "@/features/jobs/components/echo-panel.tsx";
import { WorkersTable } from "@/features/workers/components/workers-table.tsx";

export default function WorkersPage() {
  return (
    <>
      <h1>Workers</h1>
      <p className="muted">
        Every worker process registers here with what it can run and heartbeats every few seconds; one that
        stops heartbeating turns offline and its runs are re-queued.
      </p>
      <div className="panel">
        <WorkersTable />
      </div>
      <h2>Diagnostics</h2>
      <p className="muted">
        An echo job goes through the queue to a worker and back: it checks that Redis and a worker answer.
      </p>
      <EchoPanel />
    </>
  );
}
