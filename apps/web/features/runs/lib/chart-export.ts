import type { Point } from "./downsample.ts";

/** One row per step, one column per curve (empty where a curve has no point at that step). */
export function chartToCsv(lines: { label: string; points: readonly Point[] }[]): string {
  const steps = [...new Set(lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
  const byLine = lines.map((l) => new Map(l.points.map(([s, v]) => [s, v])));
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  const rows = [["step", ...lines.map((l) => quote(l.label))].join(",")];
  for (const s of steps) rows.push([s, ...byLine.map((m) => (m.has(s) ? String(m.get(s)) : ""))].join(","));
  return `${rows.join("\n")}\n`;
}

export function downloadBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Draws a chart's SVG onto a canvas (2× for sharpness) on the page's background, as a PNG. */
export async function svgToPng(svg: SVGSVGElement, title: string): Promise<Blob> {
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", String(width));
  clone.setAttribute("height", String(height));
  const xml = new XMLSerializer().serializeToString(clone);
  const img = new Image();
  const loaded = new Promise<void>((resolve, reject) => {
    img.onload = () => resolve();
    img.onerror = () => reject(new Error("the chart could not be drawn as an image"));
  });
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(xml)}`;
  await loaded;
  const scale = 2;
  const titleHeight = 24;
  const canvas = document.createElement("canvas");
  canvas.width = width * scale;
  canvas.height = (height + titleHeight) * scale;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no 2D canvas in this browser");
  ctx.scale(scale, scale);
  ctx.fillStyle = "#171a21";
  ctx.fillRect(0, 0, width, height + titleHeight);
  ctx.fillStyle = "#e6e8ee";
  ctx.font = "600 13px ui-sans-serif, system-ui, sans-serif";
  ctx.fillText(title, 8, 16);
  ctx.drawImage(img, 0, titleHeight, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("PNG encoding failed"))), "image/png"),
  );
}
