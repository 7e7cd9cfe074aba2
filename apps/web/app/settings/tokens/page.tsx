import { TokenSettings } from "@/features/auth/components/token-settings.tsx";

export default function TokensPage() {
  return <TokenSettings />;
}
