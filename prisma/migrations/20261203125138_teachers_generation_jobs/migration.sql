-- CreateTable
CREATE TABLE "Teacher" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "api" TEXT NOT NULL DEFAULT 'openai',
    "baseUrl" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "apiKeySealed" TEXT,
    "priceInPerM" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "priceOutPerM" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "lastTest" JSONB,
    "createdById" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Teacher_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GenerationJob" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "teacherId" TEXT,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "config" JSONB NOT NULL,
    "prompts" JSONB,
    "total" INTEGER NOT NULL DEFAULT 0,
    "createdById" TEXT,
    "claimedById" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "heartbeatAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),
    "pauseRequestedAt" TIMESTAMP(3),
    "interruptions" INTEGER NOT NULL DEFAULT 0,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "error" TEXT,
    "progress" JSONB NOT NULL DEFAULT '{}',
    "resultVersionId" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "GenerationJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GenerationRow" (
    "id" BIGSERIAL NOT NULL,
    "jobId" TEXT NOT NULL,
    "promptIndex" INTEGER NOT NULL,
    "sample" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "reasoning" TEXT,
    "answer" TEXT,
    "finishReason" TEXT,
    "reasoningSource" TEXT,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "reasoningTokens" INTEGER NOT NULL DEFAULT 0,
    "latencyMs" INTEGER NOT NULL DEFAULT 0,
    "tries" INTEGER NOT NULL DEFAULT 1,
    "error" TEXT,
    "isVerified" BOOLEAN NOT NULL DEFAULT false,
    "verification" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GenerationRow_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Teacher_workspaceId_name_key" ON "Teacher"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "GenerationJob_workspaceId_status_createdAt_idx" ON "GenerationJob"("workspaceId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "GenerationJob_status_heartbeatAt_idx" ON "GenerationJob"("status", "heartbeatAt");

-- CreateIndex
CREATE UNIQUE INDEX "GenerationRow_jobId_promptIndex_sample_key" ON "GenerationRow"("jobId", "promptIndex", "sample");

-- CreateIndex
CREATE INDEX "GenerationRow_jobId_id_idx" ON "GenerationRow"("jobId", "id");

-- AddForeignKey
ALTER TABLE "Teacher" ADD CONSTRAINT "Teacher_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GenerationJob" ADD CONSTRAINT "GenerationJob_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GenerationJob" ADD CONSTRAINT "GenerationJob_teacherId_fkey" FOREIGN KEY ("teacherId") REFERENCES "Teacher"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GenerationRow" ADD CONSTRAINT "GenerationRow_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "GenerationJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;
