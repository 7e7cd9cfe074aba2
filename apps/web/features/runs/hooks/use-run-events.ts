"use client";
import type { EngineEvent } from "@distillery/core";
import { useEffect, useRef, useState } from "react";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended";

/**
 * Subscribes to a run's SSE stream after `afterSeq`. The browser's EventSource reconnects by
 * itself and sends Last-Event-ID, so the server resumes after the last event we got; the stream
 * says `end` when the run is finished, and only then is it closed for good.
 */
export function useRunEvents(
  runId: string,
  afterSeq: number | null,
  onEvent: (e: EngineEvent) => void,
  onEnd?: () => void,
) {
  const [state, setState] = useState<StreamState>("connecting");
  const handlers = useRef({ onEvent, onEnd });
  handlers.current = { onEvent, onEnd };
  useEffect(() => {
    if (afterSeq === null) return;
    const source = new EventSource(`/api/runs/${encodeURIComponent(runId)}/events?after=${afterSeq}`);
    setState("connecting");
    source.onopen = () => setState("live");
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "ended" : "reconnecting");
    source.onmessage = (m) => {
      try {
        handlers.current.onEvent(JSON.parse(m.data) as EngineEvent);
      } catch {
        // a malformed message is skipped; the next one carries on
      }
    };
    source.addEventListener("end", () => {
      source.close();
      setState("ended");
      handlers.current.onEnd?.();
    });
    return () => source.close();
  }, [runId, afterSeq]);
  return state;
}
