import Link from "next/link";
import { EchoPanel } from "@/features/jobs/components/echo-panel.tsx";
import { WorkersTable } from "@/features/workers/components/workers-table.tsx";

export default function HomePage() {
  return (
    <>
      <h1>Distillery</h1>
      <p className="muted">
        Distil a large reasoning model into a small student: bring traces in <Link href="/datasets">Datasets</Link>, launch
        and watch training in <Link href="/runs">Runs</Link>, see the team's <Link href="/queue">Queue</Link>.
      </p>
      <h2>Workers online</h2>
      <div className="panel">
        <WorkersTable onlineOnly />
      </div>
      <EchoPanel />
    </>
  );
}
