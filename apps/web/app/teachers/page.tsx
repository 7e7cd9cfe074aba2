import { TeachersPage } from "@/features/teachers/components/teachers-page.tsx";

export default function Page() {
  return (
    <>
      <h1>Teachers</h1>
      <p className="muted">
        The reasoning models generation jobs send prompts to: DeepSeek's API, vLLM or SGLang with a reasoning
        parser, or ollama. Keys are stored encrypted and never shown again.
      </p>
      <TeachersPage />
    </>
  );
}
