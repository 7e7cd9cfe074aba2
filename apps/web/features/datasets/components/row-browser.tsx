"use client";
import { useState } from "react";
import { useVersionRowSearch, useVersionRows } from "../hooks/use-datasets.ts";
import type { RowPage } from "../server/browse-rows.ts";
import { RenderedExample } from "./rendered-example.tsx";
import { TemplateSelect } from "./template-select.tsx";

const LIMIT = 10;

/**
 * Paged rows of a version with a text search; any row rendered with a template. A search runs
 * on the server a bounded stretch of the version at a time: the matches found so far are shown
 * with how far it got ("searched N of M rows"), and "Load more" goes on from there.
 */
export function RowBrowser({
  datasetId,
  versionId,
  defaultTemplate,
}: {
  datasetId: string;
  versionId: string;
  defaultTemplate: string;
}) {
  const [from, setFrom] = useState(0);
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [template, setTemplate] = useState(defaultTemplate);
  const [open, setOpen] = useState<number | null>(null);
  const browse = useVersionRows(datasetId, versionId, { from, limit: LIMIT }, { enabled: q === "" });
  const found = useVersionRowSearch(datasetId, versionId, { q, limit: LIMIT });
  const pages: RowPage[] = q ? (found.data?.pages ?? []) : browse.data ? [browse.data] : [];
  const rows = pages.flatMap((p) => p.rows);
  const last = pages.at(-1);
  const error = q ? found.error : browse.error;
  const isFetching = q ? found.isFetching : browse.isFetching;

  let summary = "";
  if (last && !q) summary = `${last.total.toLocaleString()} rows`;
  if (last && q) {
    summary = `${rows.length.toLocaleString()}${last.next === null ? "" : "+"} matching rows`;
    if (last.next !== null)
      summary += ` · searched ${last.next.toLocaleString()} of ${last.total.toLocaleString()} rows`;
  }
  return (
    <div className="panel" data-testid="row-browser">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setFrom(0);
          setQ(search.trim());
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
          {summary}
          {isFetching ? " …" : ""}
        </span>
      </form>
      {error && <p className="error">{error.message}</p>}
      <table>
        <tbody>
          {rows.map(({ index, example }) => (
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
      {q ? (
        <div className="row">
          <button
            type="button"
            data-testid="search-more"
            disabled={!found.hasNextPage || found.isFetchingNextPage}
            onClick={() => void found.fetchNextPage()}
          >
            {found.hasNextPage ? "Load more" : "End of version"}
          </button>
        </div>
      ) : (
        <div className="row">
          <button type="button" disabled={from === 0} onClick={() => setFrom(Math.max(0, from - LIMIT))}>
            Previous
          </button>
          <span className="muted">{rows.length > 0 ? `${from + 1}–${from + rows.length}` : ""}</span>
          <button type="button" disabled={last?.next == null} onClick={() => setFrom(last?.next ?? from)}>
            Next
          </button>
        </div>
      )}
    </div>
  );
}
