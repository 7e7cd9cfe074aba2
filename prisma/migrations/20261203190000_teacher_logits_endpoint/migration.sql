-- teacher logits computed by a teacher endpoint (vLLM prompt_logprobs) instead of a catalog model
ALTER TABLE "TeacherLogits" ADD COLUMN "teacherEndpointId" TEXT;
