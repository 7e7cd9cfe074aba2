-- AlterTable
ALTER TABLE "Model" ADD COLUMN "facts" JSONB;
