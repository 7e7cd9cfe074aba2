/**
 * Stop strings over streamed text: text that could still be the start of a stop string is held
 * back until the next piece says whether it is one. The stop string itself is never emitted
 * (as OpenAI does).
 */
export interface StopMatcher {
  /** feeds new text; returns what may be emitted now, and whether a stop string was hit */
  push(text: string): { emit: string; stopped: boolean };
  /** the text still held back (at the end of the generation it is emitted) */
  flush(): string;
}

export function createStopMatcher(stops: readonly string[]): StopMatcher {
  const live = stops.filter((s) => s.length > 0);
  let held = "";
  let stopped = false;
  return {
    push(text) {
      if (stopped) return { emit: "", stopped: true };
      held += text;
      let cut = -1;
      for (const s of live) {
        const at = held.indexOf(s);
        if (at !== -1 && (cut === -1 || at < cut)) cut = at;
      }
      if (cut !== -1) {
        stopped = true;
        const emit = held.slice(0, cut);
        held = "";
        return { emit, stopped: true };
      }
      // keep the longest suffix that is a proper prefix of some stop string
      let keep = 0;
      for (const s of live)
        for (let n = Math.min(s.length - 1, held.length); n > keep; n--)
          if (held.endsWith(s.slice(0, n))) {
            keep = n;
            break;
          }
      const emit = held.slice(0, held.length - keep);
      held = held.slice(held.length - keep);
      return { emit, stopped: false };
    },
    flush() {
      const rest = held;
      held = "";
      return rest;
    },
  };
}
