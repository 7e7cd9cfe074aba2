-- CreateTable
CREATE TABLE "TeacherLogits" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "versionId" TEXT NOT NULL,
    "teacherModelId" TEXT NOT NULL,
    "teacherName" TEXT NOT NULL,
    "k" INTEGER NOT NULL DEFAULT 20,
    "maxSeqLength" INTEGER NOT NULL,
    "completionOnly" BOOLEAN NOT NULL DEFAULT true,
    "template" TEXT NOT NULL,
    "systemPrompt" TEXT,
    "status" TEXT NOT NULL DEFAULT 'estimating',
    "estimate" JSONB,
    "progress" JSONB NOT NULL DEFAULT '{}',
    "tokenizerSha256" TEXT,
    "vocabSize" INTEGER,
    "rows" INTEGER,
    "positions" INTEGER,
    "bytes" BIGINT NOT NULL DEFAULT 0,
    "seconds" DOUBLE PRECISION,
    "blobPrefix" TEXT,
    "error" TEXT,
    "createdById" TEXT,
    "claimedById" TEXT,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "heartbeatAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TeacherLogits_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TeacherLogits_workspaceId_versionId_createdAt_idx" ON "TeacherLogits"("workspaceId", "versionId", "createdAt");

-- AddForeignKey
ALTER TABLE "TeacherLogits" ADD CONSTRAINT "TeacherLogits_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "TeacherLogits" ADD CONSTRAINT "TeacherLogits_versionId_fkey" FOREIGN KEY ("versionId") REFERENCES "DatasetVersion"("id") ON DELETE CASCADE ON UPDATE CASCADE;
