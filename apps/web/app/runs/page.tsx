import Link from "next/link";
import { RunsTable } from "@/features/runs/components/runs-table.tsx";

export default function RunsPage() {
  return (
    <>
      <div className="row between">
        <h1>Runs</h1>
        <Link href="/runs/new" className="button">
          New run
        </Link>
      </div>
      <RunsTable />
    </>
  );
}
