import { DEFAULT_WORKSPACE_ID, listRuns } from "@distillery/db";
import Link from "next/link";
import { getContext } from "@/lib/server/context.ts";

export const dynamic = "force-dynamic";

export default async function QueuePage() {
  const runs = await listRuns(getContext().db, DEFAULT_WORKSPACE_ID, { status: ["queued", "claimed", "running"], take: 500 });
  const waiting = runs.filter((r) => r.status === "queued").sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const active = runs.filter((r) => r.status !== "queued");
  return (
    <>
      <h1>Queue</h1>
      <h2>Running</h2>
      <div className="panel">
        {active.length === 0 ? (
          <p className="empty">Nothing is running.</p>
        ) : (
          <table>
            <tbody>
              {active.map((r) => (
                <tr key={r.id}>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>
                    <span className={`badge ${r.status}`}>{r.status}</span>
                  </td>
                  <td className="mono">{r.claimedBy?.host ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <h2>Waiting</h2>
      <div className="panel">
        {waiting.length === 0 ? (
          <p className="empty">No run is waiting.</p>
        ) : (
          <table>
            <tbody>
              {waiting.map((r, i) => (
                <tr key={r.id}>
                  <td>#{i + 1}</td>
                  <td>
                    <Link href={`/runs/${r.id}`}>{r.name}</Link>
                  </td>
                  <td>{r.engine}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
