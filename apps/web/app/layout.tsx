import type { Metadata } from "next";
import type { ReactNode } from "react";
import { Nav } from "@/components/nav.tsx";
import { Providers } from "./providers.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "Distillery",
  description: "Distil a large reasoning model into a small student.",
};

// every page renders per request: the proxy's CSP nonce must reach Next's scripts
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <Nav />
          <main className="main">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
