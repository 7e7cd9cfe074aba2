import { GenerationJobPage } from "@/features/generations/components/generation-job-page.tsx";

export default async function Page({ params }: { params: Promise<{ jobId: string }> }) {
  const { jobId } = await params;
  return <GenerationJobPage jobId={jobId} />;
}
