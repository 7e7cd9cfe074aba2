"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const LINKS = [
  { href: "/datasets", label: "Datasets" },
  { href: "/models", label: "Models" },
  { href: "/runs", label: "Runs" },
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
    </nav>
  );
}
