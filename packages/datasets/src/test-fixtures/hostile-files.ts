/** Hostile dataset files, each with what its refusal must say: the unit test here and scripts/drills/hostile-datasets.ts (through the real stack) use them. */
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";

export interface Hostile {
  name: string;
  /** the file name sent with the upload */
  fileName: string;
  body: Buffer;
  /** a word the 4xx's detail or the failed job's error must contain */
  expect: RegExp;
}

const j = (rows: unknown[]) => Buffer.from(rows.map((r) => JSON.stringify(r)).join("\n"));
const magpie = (i: number) => ({
  instruction: `What is ${i} + ${i}?`,
  response: `<think>\nadd\n</think>\n\n${2 * i}`,
});
const many = (n: number, bad: number, badRow: unknown) =>
  j(Array.from({ length: n }, (_, i) => (i + 1 === bad ? badRow : magpie(i))));
const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
const csv = (header: string[], rows: string[][]) =>
  Buffer.from([header, ...rows].map((r) => r.join(",")).join("\n"));

export function hostileFiles(): Hostile[] {
  const files: Hostile[] = [];
  const add = (name: string, fileName: string, body: Buffer | string, expect: RegExp) =>
    files.push({ name, fileName, body: Buffer.isBuffer(body) ? body : Buffer.from(body), expect });

  // encodings and formats the engine cannot read at all (refused at upload)
  add("empty body", "empty.jsonl", "", /empty/);
  add("only whitespace", "blank.jsonl", "   \n\n\t\n", /empty|no rows|format/);
  add(
    "random binary",
    "noise.jsonl",
    Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    /binary|UTF-8|format/,
  );
  add(
    "UTF-16LE with BOM",
    "utf16.jsonl",
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(magpie(1)), "utf16le")]),
    /UTF-16|UTF-8/,
  );
  add(
    "UTF-16BE with BOM",
    "utf16be.jsonl",
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON.stringify(magpie(1)), "utf16le").swap16()]),
    /UTF-16|UTF-8/,
  );
  add(
    "UTF-16LE without BOM",
    "utf16nobom.jsonl",
    Buffer.from(JSON.stringify(magpie(1)), "utf16le"),
    /UTF-16|UTF-8|binary/,
  );
  add(
    "UTF-32LE with BOM",
    "utf32.jsonl",
    Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), Buffer.from("{\0\0\0}\0\0\0")]),
    /UTF|binary/,
  );
  add(
    "PNG image",
    "image.jsonl",
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 1)]),
    /binary|UTF-8|format/,
  );
  add(
    "PDF document",
    "paper.json",
    Buffer.concat([Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "latin1"), Buffer.alloc(100, 0)]),
    /binary|format|UTF-8/,
  );
  add(
    "ZIP archive",
    "data.jsonl",
    Buffer.concat([Buffer.from("PK\x03\x04", "latin1"), Buffer.alloc(100, 0)]),
    /binary|format|UTF-8/,
  );
  add(
    "raw NUL byte in a row",
    "nulbyte.jsonl",
    Buffer.from('{"instruction":"a\u0000b","response":"x"}\n'),
    /NUL|binary/,
  );
  add("XML", "data.xml", "<?xml version='1.0'?><rows><row/></rows>", /format/);
  add("HTML", "index.html", "<!doctype html><html><body>hi</body></html>", /format/);
  add("YAML", "data.yaml", "- instruction: hi\n  response: there\n", /format/);
  add("plain text with unknown extension", "notes.txt", "instruction,response\nhi,there\n", /format/);
  add("top-level JSON string", "scalar.json", '"just a string"', /format|array|object/);
  add("top-level JSON number", "number.json", "42", /format|array|object/);
  add(
    "truncated gzip",
    "cut.jsonl.gz",
    gzipSync(many(200, 0, null)).subarray(0, 60),
    /gzip|end|truncat|unexpected|format|compress/i,
  );
  add(
    "gzip of binary",
    "bin.gz",
    gzipSync(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256))),
    /binary|UTF-8|format/,
  );
  add(
    "gzip of UTF-16",
    "u16.jsonl.gz",
    gzipSync(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(magpie(1)), "utf16le")])),
    /UTF-16|UTF-8/,
  );
  add("gzip inside gzip", "double.jsonl.gz", gzipSync(gzipSync(many(5, 0, null))), /binary|UTF-8|format/);
  add(
    "Parquet magic then garbage",
    "bad.parquet",
    Buffer.concat([Buffer.from("PAR1"), Buffer.alloc(64, 7), Buffer.from("PAR1")]),
    /Parquet|parquet|corrupt|invalid|read/i,
  );
  add(
    "Parquet cut in half",
    "half.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "instruction", data: ["a", "b"] },
          { name: "response", data: ["x", "y"] },
        ],
      }),
    ).subarray(0, 40),
    /Parquet|parquet|corrupt|invalid|read/i,
  );
  add(
    "Parquet footer length lies",
    "lie.parquet",
    (() => {
      const b = Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: "instruction", data: ["a"] },
            { name: "response", data: ["x"] },
          ],
        }),
      );
      b.writeUInt32LE(0x7fffffff, b.length - 8);
      return b;
    })(),
    /Parquet|parquet|corrupt|invalid|read|footer|metadata/i,
  );

  // nesting, width, size
  add(
    "JSONL row nested 10,000 deep",
    "deep.jsonl",
    `${JSON.stringify(magpie(1))}\n{"instruction":"a","response":${deep(10_000)}}\n`,
    /line 2.*64 levels/,
  );
  add(
    "JSON array element nested 10,000 deep",
    "deep.json",
    `[{"instruction":"a","response":${deep(10_000)}}]`,
    /line 1.*64 levels/,
  );
  add(
    "JSONL row nested 65 deep",
    "deep65.jsonl",
    `{"instruction":"a","response":${deep(65)}}\n`,
    /64 levels/,
  );
  add(
    "object nested 5,000 deep",
    "deepobj.jsonl",
    `${'{"a":'.repeat(5000)}1${"}".repeat(5000)}\n`,
    /64 levels/,
  );
  add(
    "CSV with 100,000 columns",
    "wide.csv",
    csv(
      Array.from({ length: 100_000 }, (_, i) => `c${i}`),
      [Array.from({ length: 100_000 }, () => "v")],
    ),
    /1,000 columns/,
  );
  add(
    "CSV with 1,001 columns",
    "wide1001.csv",
    csv(
      Array.from({ length: 1001 }, (_, i) => `c${i}`),
      [Array.from({ length: 1001 }, () => "v")],
    ),
    /1,000 columns/,
  );
  add(
    "JSONL rows with 1,500 distinct keys",
    "widekeys.jsonl",
    j([Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`k${i}`, "v"]))]),
    /1,000 distinct columns/,
  );
  add(
    "CSV duplicate header",
    "dup.csv",
    csv(["instruction", "instruction"], [["a", "b"]]),
    /duplicate column/,
  );
  add("CSV empty header name", "emptyname.csv", csv(["instruction", ""], [["a", "b"]]), /empty column name/);
  add(
    "a 17 MiB line",
    "long.jsonl",
    `${JSON.stringify({ instruction: "x".repeat(17 * 1024 * 1024), response: "y" })}\n`,
    /longer than/,
  );

  // rows that fail under policy "reject": the job fails naming line and field
  add(
    "invalid JSON on line 3",
    "broken.jsonl",
    Buffer.concat([many(2, 0, null), Buffer.from('\n{"instruction": oops\n')]),
    /line 3.*invalid JSON/,
  );
  add(
    "truncated last line",
    "cutline.jsonl",
    Buffer.concat([many(3, 0, null), Buffer.from('\n{"instruction":"x"')]),
    /line 4/,
  );
  add(
    "a row that is an array",
    "arrayrow.jsonl",
    Buffer.concat([many(2, 0, null), Buffer.from("\n[1,2]\n")]),
    /line 3.*array/,
  );
  add(
    "a row that is null",
    "nullrow.jsonl",
    Buffer.concat([many(2, 0, null), Buffer.from("\nnull\n")]),
    /line 3/,
  );
  add("rows that are numbers", "numbers.jsonl", "1\n2\n3\n", /line 1|no valid rows|object/);
  add("JSON array of strings", "strings.json", '["a","b"]', /line 1|not a JSON object|no valid rows/);
  add(
    "invalid UTF-8 in line 2",
    "badutf8.jsonl",
    Buffer.concat([
      Buffer.from(`${JSON.stringify(magpie(1))}\n{"instruction":"`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('","response":"x"}\n'),
    ]),
    /line 2.*UTF-8|UTF-8/,
  );
  add(
    "escaped NUL in the prompt, line 4",
    "nul.jsonl",
    many(5, 4, { instruction: "a\u0000b", response: "x" }),
    /line 4.*instruction.*NUL/,
  );
  add(
    "escaped NUL in the response, line 1,000",
    "nul1000.jsonl",
    many(1200, 1000, { instruction: "ok", response: "bad\u0000" }),
    /line 1000.*response.*NUL/,
  );
  add(
    "NUL inside a ShareGPT turn",
    "nulturn.jsonl",
    j([
      {
        conversations: [
          { from: "human", value: "hi" },
          { from: "gpt", value: "\u0000" },
        ],
      },
    ]),
    /line 1.*conversations\[1\]\.value.*NUL/,
  );
  add(
    "missing response on line 3",
    "missing.jsonl",
    many(4, 3, { instruction: "x", response: null }),
    /line 3.*response/,
  );
  add(
    "response is a list",
    "listresp.jsonl",
    many(4, 2, { instruction: "x", response: ["a"] }),
    /line 2.*response.*list/,
  );
  add(
    "response is an object",
    "objresp.jsonl",
    many(4, 2, { instruction: "x", response: { a: 1 } }),
    /line 2.*response.*object/,
  );
  add(
    "empty instruction",
    "emptyprompt.jsonl",
    many(3, 3, { instruction: "   ", response: "x" }),
    /line 3.*instruction.*empty/,
  );
  add(
    "ShareGPT not ending with the assistant",
    "noasst.jsonl",
    j([
      {
        conversations: [
          { from: "human", value: "hi" },
          { from: "gpt", value: "a" },
        ],
      },
      { conversations: [{ from: "human", value: "hi" }] },
    ]),
    /line 2.*assistant/,
  );
  add(
    "ShareGPT unsupported role",
    "role.jsonl",
    j([
      {
        conversations: [
          { from: "human", value: "hi" },
          { from: "gpt", value: "a" },
        ],
      },
      {
        conversations: [
          { from: "tool", value: "x" },
          { from: "gpt", value: "a" },
        ],
      },
    ]),
    /line 2.*role/,
  );
  add(
    "ShareGPT system turn in the middle",
    "sysmid.jsonl",
    j([
      {
        conversations: [
          { from: "human", value: "hi" },
          { from: "gpt", value: "a" },
        ],
      },
      {
        conversations: [
          { from: "human", value: "hi" },
          { from: "system", value: "s" },
          { from: "gpt", value: "a" },
        ],
      },
    ]),
    /line 2.*system turn/,
  );
  add(
    "OpenAI content that is an object",
    "objcontent.jsonl",
    j([
      {
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: "a" },
        ],
      },
      {
        messages: [
          { role: "user", content: { text: "q" } },
          { role: "assistant", content: "a" },
        ],
      },
    ]),
    /line 2.*content/,
  );
  add(
    "OpenAI turns not a list on line 2",
    "turns.jsonl",
    j([
      {
        messages: [
          { role: "user", content: "q" },
          { role: "assistant", content: "a" },
        ],
      },
      { messages: "nope" },
    ]),
    /line 2.*messages/,
  );
  add(
    "s1K trajectories that are a number",
    "s1k.jsonl",
    j([
      { question: "q", thinking_trajectories: ["t"], attempt: "a" },
      { question: "q", thinking_trajectories: 7, attempt: "a" },
    ]),
    /line 2.*thinking_trajectories/,
  );
  add(
    "unknown shape (nothing guessed)",
    "unknown.jsonl",
    j([{ foo: "a", bar: "b" }]),
    /cannot tell which columns/,
  );
  add("unknown shape in CSV", "unknown.csv", csv(["foo", "bar"], [["a", "b"]]), /cannot tell which columns/);
  add("CSV unclosed quote", "quote.csv", 'instruction,response\n"a,b\n', /quote|Quote|line/);
  add("CSV row with too many fields", "fields.csv", "instruction,response\na,b\nc,d,e\n", /line 3/);
  add("CSV header only", "header.csv", "instruction,response\n", /no rows|empty/);
  add("TSV row with too few fields", "few.tsv", "instruction\tresponse\na\n", /line 2/);
  add(
    "Parquet with no rows",
    "empty.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "instruction", data: [], type: "STRING" },
          { name: "response", data: [], type: "STRING" },
        ],
      }),
    ),
    /no rows|empty/,
  );
  add(
    "Parquet of unknown shape",
    "unknown.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "foo", data: ["a"] },
          { name: "bar", data: ["b"] },
        ],
      }),
    ),
    /cannot tell which columns/,
  );
  add(
    "Parquet with a NUL in a row",
    "nul.parquet",
    Buffer.from(
      parquetWriteBuffer({
        columnData: [
          { name: "instruction", data: ["ok", "a\u0000b"] },
          { name: "response", data: ["x", "y"] },
        ],
      }),
    ),
    /line 2.*instruction.*NUL/,
  );
  add(
    "gzip bomb (256 MiB of spaces)",
    "bomb.jsonl.gz",
    gzipSync(Buffer.alloc(256 * 1024 * 1024, 0x20), { level: 9 }),
    /decompress|bomb|ratio|no rows|empty/i,
  );
  add(
    "hostile file name and binary body",
    "../../etc/passwd\u202e.jsonl",
    Buffer.alloc(256, 0),
    /binary|UTF|format/,
  );
  add("JSON array missing its end", "open.json", `[${JSON.stringify(magpie(1))},`, /missing `]`|ends inside/);
  add(
    "JSON array with text after it",
    "after.json",
    `[${JSON.stringify(magpie(1))}] trailing`,
    /after the end/,
  );
  return files;
}
