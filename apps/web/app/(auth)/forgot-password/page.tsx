import { ForgotPasswordForm } from "@/features/auth/components/password-reset-forms.tsx";

export const dynamic = "force-dynamic";

export default function ForgotPasswordPage() {
  return <ForgotPasswordForm />;
}
