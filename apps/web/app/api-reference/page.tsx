import { ApiReference } from "@/features/openapi/api-reference.tsx";

export default function ApiReferencePage() {
  return <ApiReference />;
}
