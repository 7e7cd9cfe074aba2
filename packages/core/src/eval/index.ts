export * from "./check-think-format.ts";
export * from "./extract-final-answer.ts";
export * from "./normalize-answer.ts";
export * from "./score-eval.ts";
