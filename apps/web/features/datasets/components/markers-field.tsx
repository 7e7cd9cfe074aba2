"use client";
import { REASONING_MARKERS, type ReasoningMarkers, THINK_MARKERS } from "@distillery/core";

const same = (a: ReasoningMarkers, b: ReasoningMarkers) =>
  a.open === b.open &&
  a.close === b.close &&
  (a.answerOpen ?? "") === (b.answerOpen ?? "") &&
  (a.answerClose ?? "") === (b.answerClose ?? "");

/** Which reasoning markers split the response: a known pair, or any pair the user types. */
export function MarkersField(props: {
  value: ReasoningMarkers | undefined;
  onChange: (markers: ReasoningMarkers | undefined) => void;
}) {
  const current = props.value ?? THINK_MARKERS;
  const preset = REASONING_MARKERS.find((m) => same(m.markers, current));
  const set = (key: keyof ReasoningMarkers, text: string) => {
    const next: Record<string, string> = { ...current, [key]: text };
    if (next[key] === "") delete next[key];
    props.onChange(next as ReasoningMarkers);
  };
  return (
    <fieldset className="markers" data-testid="markers-field">
      <legend>Reasoning markers</legend>
      <div className="field">
        <label htmlFor="map-markers">Marker pair</label>
        <select
          id="map-markers"
          value={preset?.id ?? "custom"}
          onChange={(e) => {
            const picked = REASONING_MARKERS.find((m) => m.id === e.target.value);
            if (picked) props.onChange(picked.id === "think" ? undefined : { ...picked.markers });
            else props.onChange({ ...current, open: current.open || "<", close: current.close || ">" });
          }}
        >
          {REASONING_MARKERS.map((m) => (
            <option key={m.id} value={m.id}>
              {m.label}
            </option>
          ))}
          <option value="custom">Other markers…</option>
        </select>
      </div>
      {!preset && (
        <div className="mapping-grid">
          {(
            [
              ["open", "Reasoning opens with"],
              ["close", "Reasoning closes with"],
              ["answerOpen", "Answer opens with (optional)"],
              ["answerClose", "Answer closes with (optional)"],
            ] as const
          ).map(([key, label]) => (
            <div className="field" key={key}>
              <label htmlFor={`map-markers-${key}`}>{label}</label>
              <input
                id={`map-markers-${key}`}
                className="mono"
                value={current[key] ?? ""}
                onChange={(e) => set(key, e.target.value)}
              />
            </div>
          ))}
        </div>
      )}
    </fieldset>
  );
}
