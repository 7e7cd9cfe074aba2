import { describe, expect, it } from "vitest";
import { messagesFor, ZConversationData } from "./conversation.ts";

describe("playground conversation", () => {
  it("each column sends its own replies as history, and the system prompt first", () => {
    const data = ZConversationData.parse({
      models: ["base", "distilled"],
      system: "Be brief.",
      turns: [
        { user: "1+1?", replies: [{ content: "2" }, { content: "two" }] },
        { user: "and 2+2?", replies: [null, null] },
      ],
    });
    expect(messagesFor(data, 1)).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "1+1?" },
      { role: "assistant", content: "two" },
      { role: "user", content: "and 2+2?" },
    ]);
  });
  it("at most 3 models side by side", () => {
    expect(ZConversationData.safeParse({ models: ["a", "b", "c", "d"] }).success).toBe(false);
  });
});
