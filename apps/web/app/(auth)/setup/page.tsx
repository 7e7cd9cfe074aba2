import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { SetupForm } from "@/features/auth/components/setup-form.tsx";
import { needsSetup } from "@/features/auth/server/setup.ts";
import { isLoopbackHost } from "@/lib/security/hosts.ts";
import { getContext } from "@/lib/server/context.ts";

export const dynamic = "force-dynamic";

export default async function SetupPage() {
  if (!(await needsSetup(getContext().db))) redirect("/sign-in");
  return <SetupForm canStartLocally={isLoopbackHost((await headers()).get("host"))} />;
}
