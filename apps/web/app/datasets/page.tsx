import { DEFAULT_WORKSPACE_ID } from "@distillery/db";
import { getContext } from "@/lib/server/context.ts";

export const dynamic = "force-dynamic";

export default async function DatasetsPage() {
  const datasets = await getContext().db.dataset.findMany({
    where: { workspaceId: DEFAULT_WORKSPACE_ID },
    orderBy: { updatedAt: "desc" },
    include: { versions: { orderBy: { version: "desc" }, take: 1 } },
  });
  return (
    <>
      <h1>Datasets</h1>
      <div className="panel">
        {datasets.length === 0 ? (
          <p className="empty">No datasets yet.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Latest version</th>
                <th>Rows</th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.id}>
                  <td>{d.name}</td>
                  <td>v{d.versions[0]?.version ?? "–"}</td>
                  <td>{d.versions[0]?.rowCount ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}
