import { VersionPage } from "@/features/datasets/components/version-page.tsx";

export default async function Page({
  params,
}: {
  params: Promise<{ datasetId: string; versionId: string }>;
}) {
  const { datasetId, versionId } = await params;
  return <VersionPage datasetId={datasetId} versionId={versionId} />;
}
