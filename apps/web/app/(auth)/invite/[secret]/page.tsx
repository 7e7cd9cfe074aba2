import { AcceptInvitation } from "@/features/auth/components/accept-invitation.tsx";

export const dynamic = "force-dynamic";

export default async function InvitePage({ params }: { params: Promise<{ secret: string }> }) {
  const { secret } = await params;
  return <AcceptInvitation secret={secret} />;
}
