import { Suspense } from "react";
import { PlaygroundPage } from "@/features/playground/components/playground-page.tsx";

export default function Page() {
  return (
    <>
      <h1>Playground</h1>
      <Suspense>
        <PlaygroundPage />
      </Suspense>
    </>
  );
}
