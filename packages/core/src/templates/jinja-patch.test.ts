import { Template } from "@huggingface/jinja";
import { describe, expect, it } from "vitest";

// The behaviours patches/@huggingface+jinja+0.5.13.patch gives the library: each expectation is
// what Python Jinja2 3.1 renders (checked against Debian's python3-jinja2). A failure here
// means the patch was not applied (`npx patch-package`) or a new release changed the code.
const render = (source: string, vars: Record<string, unknown> = {}) => new Template(source).render(vars);

describe("@huggingface/jinja patch: Python semantics real templates rely on", () => {
  it("compares like Python: '' != false, undefined != none, lists and dicts by value", () => {
    expect(
      render("{{ '' != false }}|{{ '' == false }}|{{ 0 == false }}|{{ 1 == true }}|{{ 1 == 1.0 }}"),
    ).toBe("True|False|True|True|True");
    expect(render("{{ x == none }}|{{ none == none }}|{{ 'a' == 'a' }}")).toBe("False|True|True");
    expect(
      render(
        "{{ [1, 'a'] == [1, 'a'] }}|{{ [1] == [2] }}|{{ {'a': 1} == {'a': 1} }}|{{ {'a': 1} == {'a': 2} }}",
      ),
    ).toBe("True|False|True|False");
    expect(
      render("{{ m == ms[-1] }}", {
        m: { role: "user", content: "hi" },
        ms: [{ role: "user", content: "hi" }],
      }),
    ).toBe("True");
    expect(render("{{ 1 in [1.0, 2] }}|{{ '1' in [1] }}|{{ false in [0] }}")).toBe("True|False|True");
  });

  it("Llama-2's `system_message != false` keeps an empty system prompt", () => {
    const src =
      "{% set system_message = s %}{% if system_message != false %}<<SYS>>{{ system_message }}<</SYS>>{% endif %}x";
    expect(render(src, { s: "" })).toBe("<<SYS>><</SYS>>x");
    expect(render(src, { s: false })).toBe("x");
  });

  it("strip, lstrip and rstrip take the characters to strip", () => {
    expect(
      render("[{{ '\\n\\nab\\n'.strip('\\n') }}][{{ 'xxaxx'.lstrip('x') }}][{{ 'xxaxx'.rstrip('x') }}]"),
    ).toBe("[ab][axx][xxa]");
    expect(render("[{{ 'xyaxy'.strip('yx') }}][{{ '  a  '.strip() }}][{{ '  a  '.lstrip(none) }}]")).toBe(
      "[a][a][a  ]",
    );
    // Qwen3's split of inline reasoning
    const qwen3 = "{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}";
    expect(render(qwen3, { c: "<think>\n\nwhy\n\n</think>\n\nanswer" })).toBe("why");
  });

  it("strips, trims and splits on Python's whitespace: U+FEFF is not, U+001C..U+001F are", () => {
    const text = "\u001f \u3000a b\ufeff";
    expect(render("[{{ t.strip() }}][{{ t | trim }}][{{ u | trim }}]", { t: text, u: "\u00a0x\u001c" })).toBe(
      "[a b\ufeff][a b\ufeff][x]",
    );
    expect(render("{{ t.split() | join('|') }}", { t: "\u001fa\ufeffb c" })).toBe("a\ufeffb|c");
  });

  it("a backslash-newline inside a string literal continues the line; unknown escapes stay", () => {
    expect(render("{{ 'a\\\nb' }}")).toBe("ab");
    expect(render('{{ "one.\\\n\\\ntwo" }}')).toBe("one.two");
    expect(render("{{ '\\d+' }}")).toBe("\\d+");
  });

  it("accepts integer dictionary keys", () => {
    expect(render("{% set d = {1: 'one', 'two': 2} %}{{ d[1] }}|{{ d['two'] }}|{{ d[3] is defined }}")).toBe(
      "one|2|False",
    );
    expect(render("{% set d = {1: 'one'} %}{% for k, v in d.items() %}{{ k + 1 }}={{ v }}{% endfor %}")).toBe(
      "2=one",
    );
    // Seed-OSS sorts a budget table keyed by integers
    expect(
      render("{% for k, v in {512: 'b', 0: 'a', 16: 'c'} | dictsort %}{{ k }}={{ v }};{% endfor %}"),
    ).toBe("0=a;16=c;512=b;");
  });

  it("prints booleans as Python does, and refuses str + int as Python does", () => {
    expect(
      render("{{ true }}|{{ false | string }}|{{ 'a' ~ true ~ 1.0 }}|{{ x is none }}", { x: null }),
    ).toBe("True|False|aTrue1.0|True");
    expect(() => render("{{ 'a' + 1 }}")).toThrow(/unsupported operand/);
  });

  it("parses {% generation %} as a block, as transformers' AssistantTracker extension does", () => {
    expect(
      render("{% for m in ms %}<{% generation %}{{ m }}{% endgeneration %}>{% endfor %}", { ms: ["a", "b"] }),
    ).toBe("<a><b>");
    expect(render("x\n  {%- generation -%}\n y \n{%- endgeneration %}\nz")).toBe("xyz");
    // unbalanced: Jinja2 refuses the template, so must we
    expect(() => render("{% if a %}{% generation %}{% else %}b{% endif %}")).toThrow();
    expect(() => render("{% generation %}a")).toThrow();
  });

  it("iterates strings as Python does (Llama-3.2-Vision loops over a string content; LLaVA selects from it)", () => {
    expect(render("{% for c in 'aé🤖' %}[{{ c }}]{% endfor %}|{% for x in nothing %}x{% endfor %}")).toBe(
      "[a][é][🤖]|",
    );
    expect(render("[{{ 'ab' | selectattr('type', 'equalto', 'image') | list | length }}]")).toBe("[0]");
    expect(render("{{ [{'a': 1}, 'x'] | map(attribute='a', default=0) | list }}")).toBe("[1, 0]");
  });

  it("passes arguments to tests, with or without parentheses (Olmo-3: `value is sameas true`)", () => {
    expect(
      render(
        "{{ x is sameas true }}|{{ 1 is sameas true }}|{{ 6 is divisibleby 3 }}|{{ 7 is divisibleby(3) }}",
        { x: true },
      ),
    ).toBe("True|False|True|False");
    expect(
      render(
        "{{ 'a' is equalto 'a' }}|{{ 2 is gt 1 }}|{{ 'b' is in ['a', 'b'] }}|{{ x is defined and true }}",
        {},
      ),
    ).toBe("True|True|True|False");
    expect(render("{{ {} is iterable }}|{{ true is number }}|{{ y is iterable }}")).toBe("True|True|True");
  });

  it("keeps {% raw %} bodies as text, with Jinja2's whitespace rules (dse-qwen2-vl's template)", () => {
    // expectations rendered by Python Jinja2 with trim_blocks and lstrip_blocks
    expect(render("a{% raw %}\n{{ x }}{% if %}\n{% endraw %}\nb")).toBe("a\n{{ x }}{% if %}\nb");
    expect(render("a\n  {% raw -%}  \n x \n  {%- endraw %}\nb")).toBe("a\nxb");
    expect(render("a\n  {% raw %}\n x \n  {% endraw -%}\n  b")).toBe("a\n\n x \nb");
    expect(render('{%- raw %}"q" \\ {% endraw %}')).toBe('"q" \\ ');
  });

  it("first/last of an empty list are undefined; reading from undefined fails, as Jinja2's Undefined does", () => {
    expect(
      render("[{{ [] | first }}]|{{ ([] | last) is defined }}|{{ [] | first | default('d', true) }}"),
    ).toBe("[]|False|d");
    expect(() => render("{{ ([] | first).content }}")).toThrow();
    expect(() => render("{{ nothing['a'] }}")).toThrow();
    expect(render("[{{ none.content }}]")).toBe("[]");
  });

  it("prints lists and dicts as Python does (`tools|string` in Mistral's tool templates)", () => {
    const tools = [{ type: "function", function: { name: "f", parameters: { a: 1 } } }];
    expect(render("{{ tools | string }}|{{ [1, 'a', none, true, (1, 2)] }}", { tools })).toBe(
      "[{'type': 'function', 'function': {'name': 'f', 'parameters': {'a': 1}}}]|[1, 'a', None, True, (1, 2)]",
    );
    expect(
      render("{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\t\\n\\\\', '\u00e9\u00a0\u200b\u2028'] }}"),
    ).toBe("[\"it's\", 'say \"hi\"', 'both \\' \"', 'tab\\t\\n\\\\', '\u00e9\\xa0\\u200b\\u2028']");
    expect(render("{% set ns = namespace(a=1) %}{{ ns }}|{{ 'ab' | list }}|{{ {1: 'a'} }}")).toBe(
      "<Namespace {'a': 1}>|['a', 'b']|{1: 'a'}",
    );
  });

  it("prints none as None, as str(None); a macro definition still prints nothing", () => {
    expect(
      render("[{{ none }}][{{ none | string }}][{{ 'a' ~ none }}][{{ x }}][{{ d.k }}]", { d: { k: null } }),
    ).toBe("[None][None][aNone][][None]");
    expect(render("{% macro m() %}x{% endmacro %}[{{ m() }}]")).toBe("[x]");
  });

  it("none | selectattr(…) and friends yield nothing instead of failing", () => {
    expect(render("[{{ x | selectattr('role', 'equalto', 'user') | list | length }}]", { x: null })).toBe(
      "[0]",
    );
    expect(render("[{% for t in none | rejectattr('a') %}{{ t }}{% endfor %}]")).toBe("[]");
    expect(render("[{{ none | map(attribute='a') | list | length }}]")).toBe("[0]");
  });
});
