import { redirect } from "next/navigation";
import { SignInForm } from "@/features/auth/components/sign-in-form.tsx";
import { needsSetup } from "@/features/auth/server/setup.ts";
import { getContext } from "@/lib/server/context.ts";

export const dynamic = "force-dynamic";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  // until the owner exists, every page leads to the first start
  if (await needsSetup(getContext().db)) redirect("/setup");
  const { next } = await searchParams;
  return <SignInForm next={next} />;
}
