"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { UserMenu } from "@/features/auth/components/user-menu.tsx";

const LINKS = [
  { href: "/datasets", label: "Datasets" },
  { href: "/models", label: "Models" },
  { href: "/generations", label: "Generate" },
  { href: "/teachers", label: "Teachers" },
  { href: "/runs", label: "Runs" },
  { href: "/evaluations", label: "Evaluations" },
  { href: "/playground", label: "Playground" },
  { href: "/queue", label: "Queue" },
  { href: "/workers", label: "Workers" },
] as const;

export function Nav() {
  const pathname = usePathname();
  return (
    <nav className="nav" aria-label="Main">
      <Link href="/" className="brand">
        Distillery
      </Link>
      {LINKS.map((l) => (
        <Link key={l.href} href={l.href} aria-current={pathname.startsWith(l.href) ? "page" : undefined}>
          {l.label}
        </Link>
      ))}
      <UserMenu />
    </nav>
  );
}
