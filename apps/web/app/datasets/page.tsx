import Link from "next/link";
import { DatasetsTable } from "@/features/datasets/components/datasets-table.tsx";

export default function DatasetsPage() {
  return (
    <>
      <div className="row between">
        <h1>Datasets</h1>
        <Link className="button" href="/datasets/new">
          New dataset
        </Link>
      </div>
      <div className="panel">
        <DatasetsTable />
      </div>
    </>
  );
}
