"use client";
import { useState } from "react";
import { useVersionRows } from "../hooks/use-datasets.ts";
import { RenderedExample } from "./rendered-example.tsx";
import { TemplateSelect } from "./template-select.tsx";

const LIMIT = 10;

/** Paged rows of a version with a text search (server-side scan); any row rendered with a template. */
export function RowBrowser({
  datasetId,
  versionId,
  defaultTemplate,
}: {
  datasetId: string;
  versionId: string;
  defaultTemplate: string;
}) {
  const [offset, setOffset] = useState(0);
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [template, setTemplate] = useState(defaultTemplate);
  const [open, setOpen] = useState<number | null>(null);
  const { data, error, isFetching } = useVersionRows(datasetId, versionId, { offset, limit: LIMIT, q });
  return (
    <div className="panel" data-testid="row-browser">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          setQ(search);
        }}
      >
        <input
          aria-label="Search rows"
          placeholder="Search text"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
        <button type="submit">Search</button>
        <TemplateSelect id="row-template" value={template} onChange={setTemplate} />
        <span className="spacer" />
        <span className="muted" data-testid="rows-summary">
          {data
            ? `${data.matched.toLocaleString()}${data.isComplete ? "" : "+"} ${q ? "matching " : ""}rows`
            : ""}
          {isFetching ? " …" : ""}
        </span>
      </form>
      {error && <p className="error">{error.message}</p>}
      <table>
        <tbody>
          {data?.rows.map(({ index, example }) => (
            <tr key={index} data-testid="browser-row">
              <td className="muted mono">#{index + 1}</td>
              <td>
                <button
                  type="button"
                  className="link-button"
                  onClick={() => setOpen(open === index ? null : index)}
                >
                  {example.messages.at(-1)?.content.slice(0, 160) || "(empty prompt)"}
                </button>
                <div className="muted small">
                  think: {example.think} · answer: {example.answer.slice(0, 80)}
                </div>
                {open === index && <RenderedExample example={example} templateId={template} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - LIMIT))}>
          Previous
        </button>
        <span className="muted">
          {data && data.rows.length > 0 ? `${offset + 1}–${offset + data.rows.length}` : ""}
        </span>
        <button
          type="button"
          disabled={!data || offset + LIMIT >= data.matched}
          onClick={() => setOffset(offset + LIMIT)}
        >
          Next
        </button>
      </div>
    </div>
  );
}
