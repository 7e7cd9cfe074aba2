import { RunForm } from "@/features/runs/components/run-form.tsx";

export default async function NewRunPage({
  searchParams,
}: {
  searchParams: Promise<{ clone?: string; datasetVersionId?: string; modelId?: string }>;
}) {
  const { clone, datasetVersionId, modelId } = await searchParams;
  return (
    <>
      <h1>New run</h1>
      <RunForm cloneId={clone} datasetVersionId={datasetVersionId} modelId={modelId} />
    </>
  );
}
