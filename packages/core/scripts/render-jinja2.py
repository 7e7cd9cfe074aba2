"""Renders chat templates with Python Jinja2 exactly as transformers' apply_chat_template does.

Input (stdin, JSON): {"now": [y, m, d, H, M, S], "cases": [{"template": str, "vars": {...}}]}
Output (stdout, JSON): one result per case, in order: {"text": str} or {"error": str, "message": str}
("error" is the exception's class name; a raise_exception() in the template gives TemplateError).

The environment mirrors transformers.utils.chat_template_utils._compile_jinja_template
(transformers 4.5x): ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, the
AssistantTracker ({% generation %}) and loopcontrols extensions, its tojson filter, and the
raise_exception / strftime_now globals. The caller passes the variables render_jinja_template
passes: messages, tools, documents, add_generation_prompt and the tokenizer's special tokens.
Run with Debian's /usr/bin/python3 and python3-jinja2; one process renders every case.
"""

import json
import sys
from datetime import datetime

try:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    sys.stderr.write("python3-jinja2 is missing: apt-get install python3-jinja2\n")
    sys.exit(3)


class AssistantTracker(Extension):
    # transformers' {% generation %} block: renders its body; the mask bookkeeping is not needed here
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def make_environment(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return now.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    request = json.load(sys.stdin)
    env = make_environment(datetime(*request["now"]))
    compiled = {}
    results = []
    for case in request["cases"]:
        source = case["template"]
        try:
            if source not in compiled:
                compiled[source] = env.from_string(source)
            results.append({"text": compiled[source].render(**case["vars"])})
        except Exception as e:  # the comparison wants every failure, whatever its kind
            results.append({"error": type(e).__name__, "message": str(e)})
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
