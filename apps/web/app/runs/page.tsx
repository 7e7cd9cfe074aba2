import { DEFAULT_WORKSPACE_ID, listRuns } from "@distillery/db";
import Link from "next/link";
import { getContext } from "@/lib/server/context.ts";

export const dynamic = "force-dynamic";

export default async function RunsPage() {
  const runs = await listRuns(getContext().db, DEFAULT_WORKSPACE_ID, { take: 100 });
  return (
    <>
      <h1>Runs</h1>
      <div className="panel">
        {runs.length === 0 ? (
          <p className="empty">No runs yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Engine</th>
                <th>Launched</th>
                <th>Worker</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>
                    <span className={`badge ${r.status}`}>{r.status}</span>
                  </td>
                  <td>{r.engine}</td>
                  <td>{r.createdAt.toISOString()}</td>
                  <td className="mono">{r.claimedBy?.host ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
