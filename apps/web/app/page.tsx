import { HomePage } from "@/features/home/components/home-page.tsx";

export default function Home() {
  return (
    <>
      <h1>Distillery</h1>
      <p className="muted">Distil a large reasoning model into a small student you can afford to run.</p>
      <HomePage />
    </>
  );
}
