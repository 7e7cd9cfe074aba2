import { CompareView } from "@/features/runs/components/compare-view.tsx";

export default async function CompareRunsPage({ searchParams }: { searchParams: Promise<{ ids?: string }> }) {
  const { ids } = await searchParams;
  const list = [
    ...new Set(
      (ids ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  return (
    <>
      <h1>Compare runs</h1>
      <CompareView ids={list} />
    </>
  );
}
