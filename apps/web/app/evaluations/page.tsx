import { EvaluationsPage } from "@/features/evaluations/components/evaluations-page.tsx";

export default async function Page({ searchParams }: { searchParams: Promise<{ runId?: string }> }) {
  const { runId } = await searchParams;
  return (
    <>
      <h1>Evaluations</h1>
      <EvaluationsPage runId={runId} />
    </>
  );
}
