import { AuditLog } from "@/features/auth/components/audit-log.tsx";

export default function AuditPage() {
  return <AuditLog />;
}
