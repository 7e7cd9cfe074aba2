import { TeamSettings } from "@/features/auth/components/team-settings.tsx";

export default function TeamPage() {
  return <TeamSettings />;
}
