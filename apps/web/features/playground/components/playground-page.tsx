"use client";
import { useRouter, useSearchParams } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useServedModels } from "@/features/evaluations/hooks/use-evaluations.ts";
import { useConversation, useConversations, useSaveConversation } from "../hooks/use-playground.ts";
import {
  type ConversationData,
  messagesFor,
  previewMessages,
  type Reply,
  withLastTurnCleared,
} from "../lib/conversation.ts";
import { streamChat } from "../lib/stream-chat.ts";
import { RenderedPrompt } from "./rendered-prompt.tsx";
import { ReplyView } from "./reply-view.tsx";

const EMPTY: ConversationData = {
  models: [],
  system: "",
  settings: { temperature: 0.7, topP: 1, maxTokens: 256, seed: null },
  turns: [],
};
const emptyReply = (): Reply => ({
  content: "",
  reasoning: "",
  completionTokens: 0,
  tokensPerSecond: 0,
  finishReason: null,
});

/** Chat with 1–3 models side by side on one conversation, saved in the workspace. */
export function PlaygroundPage() {
  const params = useSearchParams();
  const router = useRouter();
  const openId = params.get("c");
  const models = useServedModels();
  const list = useConversations();
  const opened = useConversation(openId);
  const save = useSaveConversation();
  const [id, setId] = useState<string | null>(openId);
  const [data, setData] = useState<ConversationData>(EMPTY);
  const [columns, setColumns] = useState<string[]>(["", "", ""]);
  const [input, setInput] = useState("");
  const [streaming, setStreaming] = useState<boolean[]>([]);
  const [errors, setErrors] = useState<(string | null)[]>([]);
  const [showPrompt, setShowPrompt] = useState(false);
  const aborters = useRef<AbortController[]>([]);
  const dataRef = useRef(data);
  dataRef.current = data;

  useEffect(() => {
    if (opened.data) {
      setId(opened.data.id);
      setData(opened.data.data);
      setColumns([0, 1, 2].map((i) => opened.data?.data.models[i] ?? ""));
    }
  }, [opened.data]);

  const picked = columns.filter(Boolean);
  const isBusy = streaming.some(Boolean);

  const update = (fn: (d: ConversationData) => ConversationData) => {
    dataRef.current = fn(dataRef.current);
    setData(dataRef.current);
  };

  const persist = (d: ConversationData) => {
    save.mutate(
      { id, data: d },
      {
        onSuccess: (r) => {
          if (!id) {
            setId(r.id);
            router.replace(`/playground?c=${r.id}`);
          }
        },
      },
    );
  };

  /** runs the last turn for every column (a new message or a regenerate) */
  const runTurn = async (d: ConversationData) => {
    const turn = d.turns.length;
    aborters.current = d.models.map(() => new AbortController());
    setStreaming(d.models.map(() => true));
    setErrors(d.models.map(() => null));
    await Promise.all(
      d.models.map(async (model, col) => {
        const setReply = (fn: (r: Reply) => Reply) =>
          update((cur) => ({
            ...cur,
            turns: cur.turns.map((t, i) =>
              i === turn - 1
                ? { ...t, replies: t.replies.map((r, c) => (c === col ? fn(r ?? emptyReply()) : r)) }
                : t,
            ),
          }));
        try {
          const result = await streamChat(
            {
              model,
              messages: messagesFor(d, col, turn),
              temperature: d.settings.temperature,
              top_p: d.settings.topP,
              max_tokens: d.settings.maxTokens,
              ...(d.settings.seed !== null ? { seed: d.settings.seed } : {}),
            },
            aborters.current[col]?.signal ?? new AbortController().signal,
            (delta) =>
              setReply((r) => ({
                ...r,
                content: r.content + delta.content,
                reasoning: r.reasoning + delta.reasoning,
                completionTokens: r.completionTokens + 1,
              })),
          );
          setReply((r) => ({
            ...r,
            completionTokens: result.completionTokens,
            tokensPerSecond:
              result.decodeMs > 0 ? (result.completionTokens - 1) / (result.decodeMs / 1000) : 0,
            finishReason: result.finishReason,
          }));
        } catch (e) {
          if ((e as Error).name === "AbortError") setReply((r) => ({ ...r, finishReason: "stopped" }));
          else setErrors((errs) => errs.map((x, c) => (c === col ? (e as Error).message : x)));
        } finally {
          setStreaming((s) => s.map((x, c) => (c === col ? false : x)));
        }
      }),
    );
    persist(dataRef.current);
  };

  const send = () => {
    if (!input.trim() || picked.length === 0 || isBusy) return;
    const d: ConversationData = {
      ...dataRef.current,
      models: picked,
      turns: [...dataRef.current.turns, { user: input, replies: picked.map(() => emptyReply()) }],
    };
    update(() => d);
    setInput("");
    void runTurn(d);
  };

  const regenerate = () => {
    const d = isBusy ? null : withLastTurnCleared(dataRef.current, emptyReply);
    if (!d) return;
    update(() => d);
    void runTurn(d);
  };

  const newConversation = () => {
    setId(null);
    setData(EMPTY);
    router.replace("/playground");
  };

  const setSetting = (key: keyof ConversationData["settings"], value: number | null) =>
    update((d) => ({ ...d, settings: { ...d.settings, [key]: value } }));

  const canChangeModels = data.turns.length === 0;
  const shown = data.turns.length ? data.models : picked;

  return (
    <div className="run-columns" style={{ gridTemplateColumns: "220px minmax(0, 1fr)" }}>
      <aside className="panel" aria-label="Conversations">
        <button type="button" onClick={newConversation}>
          New conversation
        </button>
        <ul style={{ listStyle: "none", padding: 0 }}>
          {(list.data ?? []).map((c) => (
            <li key={c.id} style={{ margin: "6px 0" }}>
              <a href={`/playground?c=${c.id}`} aria-current={c.id === id ? "page" : undefined}>
                {c.title}
              </a>
            </li>
          ))}
        </ul>
      </aside>
      <div>
        <section className="panel" aria-label="Settings">
          <div className="row">
            {[0, 1, 2].map((i) => (
              <label key={i} className="field-inline">
                Model {i + 1}
                <select
                  aria-label={`Model ${i + 1}`}
                  value={columns[i]}
                  disabled={!canChangeModels}
                  onChange={(e) => setColumns(columns.map((c, j) => (j === i ? e.target.value : c)))}
                >
                  <option value="">{i === 0 ? "pick a model…" : "—"}</option>
                  {(models.data ?? []).map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.label} ({m.status})
                    </option>
                  ))}
                </select>
              </label>
            ))}
            <label className="field-inline">
              Temperature
              <input
                type="number"
                step={0.1}
                min={0}
                max={2}
                aria-label="Temperature"
                style={{ width: 80 }}
                value={data.settings.temperature}
                onChange={(e) => setSetting("temperature", Number(e.target.value))}
              />
            </label>
            <label className="field-inline">
              Top p
              <input
                type="number"
                step={0.05}
                min={0.05}
                max={1}
                aria-label="Top p"
                style={{ width: 80 }}
                value={data.settings.topP}
                onChange={(e) => setSetting("topP", Number(e.target.value))}
              />
            </label>
            <label className="field-inline">
              Max tokens
              <input
                type="number"
                min={1}
                aria-label="Max tokens"
                style={{ width: 90 }}
                value={data.settings.maxTokens}
                onChange={(e) => setSetting("maxTokens", Number(e.target.value))}
              />
            </label>
            <label className="field-inline">
              Seed
              <input
                type="number"
                aria-label="Seed"
                style={{ width: 80 }}
                value={data.settings.seed ?? ""}
                onChange={(e) => setSetting("seed", e.target.value === "" ? null : Number(e.target.value))}
              />
            </label>
          </div>
          <label className="field">
            <span className="muted">System prompt</span>
            <textarea
              aria-label="System prompt"
              rows={2}
              value={data.system}
              onChange={(e) => update((d) => ({ ...d, system: e.target.value }))}
            />
          </label>
          <label className="row" style={{ gap: 6 }}>
            <input type="checkbox" checked={showPrompt} onChange={(e) => setShowPrompt(e.target.checked)} />
            Show the rendered prompt
          </label>
        </section>
        <div
          className="grid"
          style={{ gridTemplateColumns: `repeat(${Math.max(1, shown.length)}, minmax(0, 1fr))` }}
        >
          {shown.map((model, col) => (
            <section
              // biome-ignore lint/suspicious/noArrayIndexKey: a column is its position (the same model may sit in two)
              key={`${model}-${col}`}
              className="panel"
              aria-label={`Column ${col + 1}: ${model}`}
              data-testid={`column-${col}`}
            >
              <h2 className="panel-title mono">{model}</h2>
              {showPrompt && (
                <RenderedPrompt
                  model={model}
                  messages={previewMessages({ ...data, models: shown }, col, input)}
                />
              )}
              {data.turns.map((t, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: turns are append-only
                <div key={i} className="sample">
                  <div className="sample-prompt">
                    <pre>{t.user}</pre>
                  </div>
                  {t.replies[col] && (
                    <ReplyView
                      reply={t.replies[col] as Reply}
                      isStreaming={!!streaming[col] && i === data.turns.length - 1}
                    />
                  )}
                </div>
              ))}
              {errors[col] && (
                <p className="error" role="alert">
                  {errors[col]}
                </p>
              )}
            </section>
          ))}
        </div>
        <section className="panel" aria-label="Message">
          <textarea
            aria-label="Message"
            rows={3}
            style={{ width: "100%" }}
            value={input}
            placeholder="Ask something…"
            onChange={(e) => setInput(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter" && !e.shiftKey) {
                e.preventDefault();
                send();
              }
            }}
          />
          <div className="row">
            <button type="button" onClick={send} disabled={isBusy || picked.length === 0 || !input.trim()}>
              Send
            </button>
            <button
              type="button"
              className="danger"
              onClick={() => {
                for (const a of aborters.current) a.abort();
              }}
              disabled={!isBusy}
            >
              Stop
            </button>
            <button type="button" onClick={regenerate} disabled={isBusy || data.turns.length === 0}>
              Regenerate
            </button>
            {save.isPending && <span className="muted">saving…</span>}
            {id && <span className="muted">saved · anyone in the workspace can open it</span>}
          </div>
        </section>
      </div>
    </div>
  );
}
