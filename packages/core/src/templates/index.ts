export * from "./builtin-templates.ts";
export * from "./highlight-special-tokens.ts";
export * from "./render-chat.ts";
export * from "./resolve-template.ts";
export * from "./to-engine-example.ts";
