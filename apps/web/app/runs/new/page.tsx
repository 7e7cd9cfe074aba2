import { RunForm } from "@/features/runs/components/run-form.tsx";

export default async function NewRunPage({ searchParams }: { searchParams: Promise<{ clone?: string }> }) {
  const { clone } = await searchParams;
  return (
    <>
      <h1>New run</h1>
      <RunForm cloneId={clone} />
    </>
  );
}
