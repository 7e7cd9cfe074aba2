import { NewGenerationForm } from "@/features/generations/components/new-generation-form.tsx";

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const { versionId, teacherId } = await searchParams;
  return (
    <>
      <h1>Generate with a teacher</h1>
      <p className="muted">
        Send prompts to a teacher, keep the answers that verify, and get a dataset version in the R1 shape
        (prompt, reasoning, answer) to distil from.
      </p>
      <NewGenerationForm {...(versionId ? { versionId } : {})} {...(teacherId ? { teacherId } : {})} />
    </>
  );
}
