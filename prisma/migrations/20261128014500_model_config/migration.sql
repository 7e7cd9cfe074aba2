-- AlterTable
ALTER TABLE "Model" ADD COLUMN "config" JSONB;
