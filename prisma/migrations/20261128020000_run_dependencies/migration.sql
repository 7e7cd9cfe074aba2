-- AlterTable
ALTER TABLE "Run" ADD COLUMN     "dependsOnRunId" TEXT;

-- AddForeignKey
ALTER TABLE "Run" ADD CONSTRAINT "Run_dependsOnRunId_fkey" FOREIGN KEY ("dependsOnRunId") REFERENCES "Run"("id") ON DELETE SET NULL ON UPDATE CASCADE;
