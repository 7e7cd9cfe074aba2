import { GenerationsQueuePanel } from "@/features/generations/components/generations-queue-panel.tsx";
import { QueueView } from "@/features/queue/components/queue-view.tsx";

export default function QueuePage() {
  return (
    <>
      <h1>Queue</h1>
      <p className="muted">
        Runs wait in their engine's queue (local on every worker, hf on GPU workers) and start in order as
        workers free up.
      </p>
      <QueueView />
      <GenerationsQueuePanel />
    </>
  );
}
