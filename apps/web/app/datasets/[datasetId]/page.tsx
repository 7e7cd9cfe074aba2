import { DatasetPage } from "@/features/datasets/components/dataset-page.tsx";

export default async function Page({ params }: { params: Promise<{ datasetId: string }> }) {
  const { datasetId } = await params;
  return <DatasetPage datasetId={datasetId} />;
}
