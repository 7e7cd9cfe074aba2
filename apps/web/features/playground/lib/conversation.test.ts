import { describe, expect, it } from "vitest";
import {
  messagesFor,
  previewMessages,
  withLastTurnCleared,
  ZConversationData,
  ZReply,
} from "./conversation.ts";

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
  it("the rendered prompt shows what the next request sends: the history, then the message being typed", () => {
    const data = ZConversationData.parse({
      models: ["base"],
      turns: [{ user: "1+1?", replies: [{ content: "2" }] }],
    });
    expect(previewMessages(data, 0, "and 2+2?")).toEqual([
      { role: "user", content: "1+1?" },
      { role: "assistant", content: "2" },
      { role: "user", content: "and 2+2?" },
    ]);
    // nothing typed: the prompt the last turn was sent with
    expect(previewMessages(data, 0, "  ")).toEqual([{ role: "user", content: "1+1?" }]);
  });
  it("regenerate asks the last turn again with the same history, every column's reply emptied", () => {
    const data = ZConversationData.parse({
      models: ["base", "distilled"],
      turns: [
        { user: "1+1?", replies: [{ content: "2" }, { content: "two" }] },
        { user: "2+2?", replies: [{ content: "5", finishReason: "stop" }, { content: "4" }] },
      ],
    });
    const again = withLastTurnCleared(data, () => ZReply.parse({ content: "" }));
    expect(again?.turns[0]).toEqual(data.turns[0]);
    expect(again?.turns[1]?.replies.map((r) => r?.content)).toEqual(["", ""]);
    expect(again && messagesFor(again, 1)).toEqual(messagesFor(data, 1));
    expect(withLastTurnCleared({ ...data, turns: [] }, () => ZReply.parse({ content: "" }))).toBeNull();
  });
});
