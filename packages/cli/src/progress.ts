/** A one-line progress bar on stderr when it is a terminal (silent otherwise, and with --json). */
export function createProgress(label: string, total: number | null, isEnabled: boolean) {
  const isTty = isEnabled && process.stderr.isTTY === true;
  let last = 0;
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  return {
    update(done: number) {
      if (!isTty) return;
      const now = Date.now();
      if (now - last < 100 && (total === null || done < total)) return;
      last = now;
      const frac = total ? Math.min(1, done / total) : 0;
      const bar = total
        ? `[${"#".repeat(Math.round(frac * 30)).padEnd(30, "-")}] ${(frac * 100).toFixed(0)}% `
        : "";
      process.stderr.write(`\r${label} ${bar}${mb(done)}${total ? ` / ${mb(total)}` : ""}   `);
    },
    done() {
      if (isTty) process.stderr.write("\n");
    },
  };
}
