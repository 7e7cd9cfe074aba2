import Link from "next/link";
import { GenerationsList } from "@/features/generations/components/generations-list.tsx";

export default function Page() {
  return (
    <>
      <div className="row between">
        <h1>Generation jobs</h1>
        <Link className="button" href="/generations/new">
          Generate with a teacher
        </Link>
      </div>
      <GenerationsList />
    </>
  );
}
