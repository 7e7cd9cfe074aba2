import { AddModelForm } from "@/features/models/components/add-model-form.tsx";
import { ModelJobs } from "@/features/models/components/model-jobs.tsx";
import { ModelsTable } from "@/features/models/components/models-table.tsx";

export default function ModelsPage() {
  return (
    <>
      <h1>Models</h1>
      <p className="muted">
        Base models to train, and the students runs register. Each shows what its files say: parameters
        counted from the safetensors headers, context length, dtype, chat template, special tokens, and which
        engine can train it.
      </p>
      <AddModelForm />
      <ModelJobs />
      <div className="panel">
        <ModelsTable />
      </div>
    </>
  );
}
