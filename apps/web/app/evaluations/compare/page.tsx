import { CompareEvaluations } from "@/features/evaluations/components/compare-evaluations.tsx";

export default async function Page({ searchParams }: { searchParams: Promise<{ ids?: string }> }) {
  const { ids } = await searchParams;
  const list = [
    ...new Set(
      (ids ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ].slice(0, 4);
  return (
    <>
      <h1>Evaluation results</h1>
      <CompareEvaluations ids={list} />
    </>
  );
}
