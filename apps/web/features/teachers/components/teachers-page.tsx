"use client";
import Link from "next/link";
import { useState } from "react";
import { useDeleteTeacher, useTeachers, useTestTeacher } from "../hooks/use-teachers.ts";
import { AddTeacherForm } from "./add-teacher-form.tsx";
import { EditTeacherForm } from "./edit-teacher-form.tsx";
import { TeacherTestReport } from "./teacher-test-report.tsx";

/** Workspace settings: the teacher endpoints generation jobs send prompts to. */
export function TeachersPage() {
  const { data, error, isLoading } = useTeachers();
  const test = useTestTeacher();
  const remove = useDeleteTeacher();
  const [openId, setOpenId] = useState<string | null>(null);
  const [editId, setEditId] = useState<string | null>(null);
  if (isLoading) return <p className="muted">Loading teachers…</p>;
  if (error || !data) return <p className="error">Could not load the teachers: {error?.message}</p>;
  const onTest = (id: string) => {
    setOpenId(id);
    test.mutate(id);
  };
  return (
    <>
      <div className="panel">
        {data.teachers.length === 0 ? (
          <p className="empty">
            No teacher yet: add an endpoint below (DeepSeek's API, vLLM, SGLang or ollama).
          </p>
        ) : (
          <table data-testid="teachers-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Endpoint</th>
                <th>Model</th>
                <th>Key</th>
                <th>Price / 1M in · out</th>
                <th>Last test</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.teachers.map((t) => (
                <tr key={t.id} data-testid="teacher-row">
                  <td>{t.name}</td>
                  <td className="mono">
                    {t.api} · {t.baseUrl}
                  </td>
                  <td className="mono">{t.model}</td>
                  <td>{t.hasApiKey ? "set" : "none"}</td>
                  <td>
                    {t.priceInPerM} · {t.priceOutPerM}
                  </td>
                  <td>
                    {t.lastTest ? (
                      <button
                        type="button"
                        className="linkish"
                        onClick={() => setOpenId(openId === t.id ? null : t.id)}
                      >
                        <span className={`badge ${t.lastTest.isOk ? "ok" : "bad"}`}>
                          {t.lastTest.isOk ? `${t.lastTest.latencyMs} ms` : "failed"}
                        </span>
                      </button>
                    ) : (
                      <span className="muted">never</span>
                    )}
                  </td>
                  <td className="row">
                    <button
                      type="button"
                      onClick={() => onTest(t.id)}
                      disabled={test.isPending}
                      data-testid="test-teacher"
                    >
                      {test.isPending && test.variables === t.id ? "Testing…" : "Test connection"}
                    </button>
                    <button type="button" onClick={() => setEditId(editId === t.id ? null : t.id)}>
                      Edit
                    </button>
                    <Link className="button" href={`/generations/new?teacherId=${encodeURIComponent(t.id)}`}>
                      Generate
                    </Link>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => {
                        if (window.confirm(`Delete teacher "${t.name}"?`)) remove.mutate(t.id);
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      {test.error && <p className="error">{test.error.message}</p>}
      {openId &&
        (() => {
          const t = data.teachers.find((x) => x.id === openId);
          const report = test.variables === openId && test.data ? test.data : t?.lastTest;
          return report ? <TeacherTestReport report={report} /> : null;
        })()}
      {editId &&
        (() => {
          const t = data.teachers.find((x) => x.id === editId);
          return t ? <EditTeacherForm key={t.id} teacher={t} onDone={() => setEditId(null)} /> : null;
        })()}
      <AddTeacherForm onAdded={(id) => onTest(id)} />
    </>
  );
}
