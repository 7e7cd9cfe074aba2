-- AlterTable
ALTER TABLE "GenerationRow" ADD COLUMN     "prompt" TEXT;
