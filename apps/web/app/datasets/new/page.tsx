import { NewDatasetForm } from "@/features/datasets/components/new-dataset-form.tsx";

export default function NewDatasetPage() {
  return (
    <>
      <h1>New dataset</h1>
      <NewDatasetForm />
    </>
  );
}
