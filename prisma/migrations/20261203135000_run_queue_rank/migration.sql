-- A run's turn within its priority, fixed at launch (see packages/core/src/fair-queue.ts)
ALTER TABLE "Run" ADD COLUMN "queueRank" INTEGER NOT NULL DEFAULT 0;
CREATE INDEX "Run_status_engine_priority_queueRank_createdAt_idx" ON "Run"("status", "engine", "priority", "queueRank", "createdAt");
