"""The GPU server without torch: the protocol (serve_protocol.py) and serve.py's HTTP side
against a scripted runner (the transformers Runner itself needs torch and a GPU: not run here)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import unittest
from http.server import ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from distillery_trainer import serve
from distillery_trainer.serve_scripted import ScriptedRunner
from distillery_trainer.serve_protocol import (
    OpenAIError,
    ReasoningSplitter,
    StopMatcher,
    fit_max_tokens,
    parse_chat_request,
    parse_completion_request,
    parse_json_body,
    pick_engine,
    vllm_command,
)


def error_of(fn, *args) -> OpenAIError:
    try:
        fn(*args)
    except OpenAIError as e:
        return e
    raise AssertionError("no OpenAIError")


class Parsing(unittest.TestCase):
    def chat(self, **extra: Any) -> Dict[str, Any]:
        return {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}

    def test_defaults_and_fields(self) -> None:
        r = parse_chat_request(
            self.chat(
                temperature=0,
                top_p=0.9,
                n=3,
                seed=7,
                stop="\n\n",
                stream=True,
                stream_options={"include_usage": True},
                logprobs=True,
                top_logprobs=2,
                max_tokens=12,
            )
        )
        p = r.params
        self.assertEqual((p.temperature, p.top_p, p.n, p.seed, p.stop), (0.0, 0.9, 3, 7, ["\n\n"]))
        self.assertEqual((p.stream, p.include_usage, p.top_logprobs, p.max_tokens), (True, True, 2, 12))
        self.assertEqual(r.reasoning_format, "parsed")
        d = parse_chat_request(self.chat()).params
        self.assertEqual((d.temperature, d.top_p, d.n, d.top_logprobs, d.max_tokens), (1.0, 1.0, 1, -1, None))

    def test_content_parts_and_developer_role(self) -> None:
        r = parse_chat_request(
            {
                "model": "m",
                "messages": [
                    {"role": "developer", "content": "Be brief."},
                    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
                ],
            }
        )
        self.assertEqual(r.messages, [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "ab"}])

    def test_errors_name_the_field(self) -> None:
        cases = [
            (self.chat(max_tokens=0), "max_tokens"),
            (self.chat(max_tokens=-5), "max_tokens"),
            (self.chat(max_tokens=1.5), "max_tokens"),
            (self.chat(temperature=3), "temperature"),
            (self.chat(top_p=0), "top_p"),
            (self.chat(n=17), "n"),
            (self.chat(stop=["a", "b", "c", "d", "e"]), "stop"),
            (self.chat(stop=[1]), "stop[0]"),
            (self.chat(top_logprobs=21, logprobs=True), "top_logprobs"),
            (self.chat(reasoning_format="xml"), "reasoning_format"),
            (self.chat(stream="yes"), "stream"),
            ({"messages": [{"role": "user", "content": "x"}]}, "model"),
            ({"model": "m", "messages": []}, "messages"),
            ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
            ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        ]
        for body, param in cases:
            e = error_of(parse_chat_request, body)
            self.assertEqual((e.status, e.param, e.type), (400, param, "invalid_request_error"), body)
            self.assertIn(param, e.message)
        e = error_of(parse_completion_request, {"model": "m", "prompt": 3})
        self.assertEqual(e.param, "prompt")
        e = error_of(parse_completion_request, {"model": "m", "prompt": "x", "logprobs": 6})
        self.assertEqual(e.param, "logprobs")

    def test_malformed_body(self) -> None:
        for raw in (b"{not json", b"[1, 2]", b"\xff\xfe"):
            e = error_of(parse_json_body, raw)
            self.assertEqual((e.status, e.param, e.code), (400, "body", "invalid_json"))
        self.assertEqual(error_of(parse_json_body, b" " * 4_000_001).status, 413)
        self.assertEqual(
            e.body(), {"error": {"message": e.message, "type": "invalid_request_error", "param": "body", "code": "invalid_json"}}
        )

    def test_context(self) -> None:
        self.assertEqual(fit_max_tokens(10, 100, 64, "messages"), 54)
        self.assertEqual(fit_max_tokens(10, None, 1024, "messages"), 256)
        self.assertEqual(fit_max_tokens(10, 5, 64, "messages"), 5)
        e = error_of(fit_max_tokens, 64, 5, 64, "prompt")
        self.assertEqual((e.status, e.param, e.code), (400, "prompt", "context_length_exceeded"))


class Text(unittest.TestCase):
    def test_stop_strings_are_held_back_across_pieces(self) -> None:
        m = StopMatcher(["###", "\n\n"])
        out = [m.feed(t) for t in ["ab", "c#", "#", "x"]]
        self.assertEqual("".join(out) + m.flush(), "abc##x")
        m = StopMatcher(["###"])
        self.assertEqual(m.feed("ab#"), "ab")
        self.assertEqual(m.feed("##tail"), "")
        self.assertTrue(m.stopped)
        self.assertEqual(m.feed("more"), "")

    def split_all(self, pieces: List[str], starts: bool = False) -> List[Tuple[str, str]]:
        s = ReasoningSplitter(starts)
        out: List[Tuple[str, str]] = []
        for p in pieces:
            out += s.feed(p)
        out += s.flush()
        merged: List[Tuple[str, str]] = []
        for kind, text in out:
            if merged and merged[-1][0] == kind:
                merged[-1] = (kind, merged[-1][1] + text)
            else:
                merged.append((kind, text))
        return merged

    def test_think_split_like_the_r1_parser(self) -> None:
        self.assertEqual(
            self.split_all(["<th", "ink>step 1", "</thi", "nk>\n\nThe answer is 4."]),
            [("reasoning", "step 1"), ("content", "\n\nThe answer is 4.")],
        )
        # the template opened the block
        self.assertEqual(
            self.split_all(["add</think>4"], starts=True), [("reasoning", "add"), ("content", "4")]
        )
        # no block: all content; an unclosed block: all reasoning
        self.assertEqual(self.split_all(["just ", "4"]), [("content", "just 4")])
        self.assertEqual(self.split_all(["<think>still thinking"]), [("reasoning", "still thinking")])

    def test_engine_choice_and_vllm_command(self) -> None:
        self.assertEqual(pick_engine("auto", True), "vllm")
        self.assertEqual(pick_engine("auto", False), "transformers")
        with self.assertRaises(ValueError):
            pick_engine("vllm", False)
        argv = vllm_command("python3", "/m", "base", "127.0.0.1", 8001, api_key="k", max_model_len=4096)
        self.assertEqual(argv[:3], ["python3", "-m", "vllm.entrypoints.openai.api_server"])
        joined = " ".join(argv)
        for part in ("--model /m", "--port 8001", "--reasoning-parser deepseek_r1", "--served-model-name base",
                     "--max-model-len 4096"):
            self.assertIn(part, joined)
        self.assertNotIn("k", argv)  # the key goes in VLLM_API_KEY, never on the command line
        self.assertNotIn("--api-key", argv)
        shared = vllm_command("python3", "/m", "base", "127.0.0.1", 8001, gpu_memory_utilization=0.25)
        self.assertIn("--gpu-memory-utilization 0.250", " ".join(shared))
        self.assertNotIn("--gpu-memory-utilization", " ".join(argv))
        with self.assertRaises(ValueError):
            vllm_command("python3", "/m", "base", "127.0.0.1", 8001, gpu_memory_utilization=1.5)
        lora = vllm_command("python3", "/m", "run_1", "0.0.0.0", 8001, adapter="/a")
        self.assertIn("--lora-modules run_1=/a", " ".join(lora))


class Http(unittest.TestCase):
    SCRIPT = "We add 2 and 2.</think>\n\nThe answer is \\boxed{4}."

    def start(self, runner: ScriptedRunner, api_key: Optional[str] = None) -> int:
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), serve.make_handler(serve.Server(runner, "demo", api_key)))
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        return httpd.server_address[1]

    def post(self, port: int, path: str, body: Any, headers: Optional[Dict[str, str]] = None) -> Tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, raw, {"content-type": "application/json", **(headers or {})})
        res = conn.getresponse()
        text = res.read().decode()
        conn.close()
        return res.status, text

    def events(self, text: str) -> List[Any]:
        out = []
        for block in text.split("\n\n"):
            if block.startswith("data: "):
                data = block[6:]
                out.append(data if data == "[DONE]" else json.loads(data))
        return out

    def chat(self, **extra: Any) -> Dict[str, Any]:
        return {"model": "demo", "messages": [{"role": "user", "content": "2+2?"}], **extra}

    def test_chat_reasoning_usage_n_and_seeds(self) -> None:
        runner = ScriptedRunner(self.SCRIPT)
        port = self.start(runner)
        status, text = self.post(port, "/v1/chat/completions", self.chat(n=2, seed=5))
        self.assertEqual(status, 200, text)
        body = json.loads(text)
        self.assertEqual(len(body["choices"]), 2)
        msg = body["choices"][0]["message"]
        self.assertEqual(msg["reasoning_content"], "We add 2 and 2.")
        self.assertEqual(msg["content"], "\n\nThe answer is \\boxed{4}.")
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        prompt_tokens = len(runner.render_chat([{"role": "user", "content": "2+2?"}]))
        self.assertEqual(body["usage"]["prompt_tokens"], prompt_tokens)
        self.assertEqual(body["usage"]["completion_tokens"], 2 * len(self.SCRIPT))
        self.assertEqual(sorted(runner.seeds), [5, 6])

    def test_max_tokens_stop_strings_raw_and_logprobs(self) -> None:
        port = self.start(ScriptedRunner(self.SCRIPT))
        body = json.loads(self.post(port, "/v1/chat/completions", self.chat(max_tokens=6))[1])
        self.assertEqual((body["choices"][0]["finish_reason"], body["usage"]["completion_tokens"]), ("length", 6))
        self.assertEqual(body["choices"][0]["message"]["reasoning_content"], "We add")
        body = json.loads(self.post(port, "/v1/chat/completions", self.chat(stop=["answer"]))[1])
        self.assertEqual(body["choices"][0]["message"]["content"], "\n\nThe ")
        self.assertEqual(body["choices"][0]["finish_reason"], "stop")
        body = json.loads(self.post(port, "/v1/chat/completions", self.chat(reasoning_format="raw"))[1])
        self.assertEqual(body["choices"][0]["message"]["content"], "<think>" + self.SCRIPT)
        body = json.loads(
            self.post(port, "/v1/chat/completions", self.chat(max_tokens=3, logprobs=True, top_logprobs=2))[1]
        )
        content = body["choices"][0]["logprobs"]["content"]
        self.assertEqual([c["token"] for c in content], ["W", "e", " "])
        self.assertEqual([t["token"] for t in content[0]["top_logprobs"]], ["W", "?"])
        legacy = json.loads(self.post(port, "/v1/completions", {"model": "demo", "prompt": "x", "max_tokens": 4})[1])
        self.assertEqual(legacy["choices"][0]["text"], "We a")

    def test_stream_chunks_add_up_then_usage_and_done(self) -> None:
        port = self.start(ScriptedRunner(self.SCRIPT))
        status, text = self.post(
            port, "/v1/chat/completions", self.chat(stream=True, stream_options={"include_usage": True})
        )
        self.assertEqual(status, 200)
        events = self.events(text)
        self.assertEqual(events[-1], "[DONE]")
        chunks = [e for e in events[:-1] if e["choices"]]
        reasoning = "".join(c["choices"][0]["delta"].get("reasoning_content") or "" for c in chunks)
        content = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
        self.assertEqual((reasoning, content), ("We add 2 and 2.", "\n\nThe answer is \\boxed{4}."))
        self.assertEqual(chunks[-1]["choices"][0]["finish_reason"], "stop")
        self.assertEqual(events[-2]["usage"]["completion_tokens"], len(self.SCRIPT))

    def test_bad_input_is_an_openai_error_naming_the_field(self) -> None:
        port = self.start(ScriptedRunner(self.SCRIPT, context=40))
        cases = [
            (self.chat(model="nope"), 404, "model", "model_not_found"),
            (self.chat(max_tokens=0), 400, "max_tokens", "invalid_value"),
            (self.chat(messages=[{"role": "user", "content": "x" * 100}]), 400, "messages", "context_length_exceeded"),
            (b"{oops", 400, "body", "invalid_json"),
        ]
        for body, status, param, code in cases:
            got, text = self.post(port, "/v1/chat/completions", body)
            err = json.loads(text)["error"]
            self.assertEqual((got, err["param"], err["code"]), (status, param, code), text)
        got, text = self.post(port, "/v1/completions", {"model": "demo", "prompt": "y" * 50})
        self.assertEqual((got, json.loads(text)["error"]["param"]), (400, "prompt"))

    def test_api_key(self) -> None:
        port = self.start(ScriptedRunner(self.SCRIPT), api_key="secret")
        status, text = self.post(port, "/v1/chat/completions", self.chat())
        self.assertEqual((status, json.loads(text)["error"]["type"]), (401, "authentication_error"))
        status, _ = self.post(port, "/v1/chat/completions", self.chat(), {"authorization": "Bearer secret"})
        self.assertEqual(status, 200)

    def test_a_client_that_leaves_mid_stream_frees_its_row(self) -> None:
        runner = ScriptedRunner("x" * 400, context=1024, delay=0.01)
        port = self.start(runner)
        body = json.dumps(self.chat(stream=True, max_tokens=400)).encode()
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        self.assertIn(b"200", sock.recv(64))  # the stream started
        sock.close()  # the client goes away mid-stream
        for _ in range(300):
            if runner.cancelled_rows:
                break
            time.sleep(0.01)
        self.assertEqual(runner.cancelled_rows, 1)
        self.assertEqual(runner.active, 0)


class SelectCacheRows(unittest.TestCase):
    def test_cache_objects_and_legacy_tuples(self) -> None:
        class Cache:
            def __init__(self) -> None:
                self.kept: Any = None

            def batch_select_indices(self, index: Any) -> None:
                self.kept = index

        c = Cache()
        self.assertIs(serve.select_cache_rows(c, [0, 2]), c)
        self.assertEqual(c.kept, [0, 2])

        class T:
            def __init__(self, rows: List[int]) -> None:
                self.rows = rows

            def index_select(self, dim: int, index: List[int]) -> "T":
                return T([self.rows[i] for i in index])

        legacy = ((T([1, 2, 3]), T([4, 5, 6])),)
        kept = serve.select_cache_rows(legacy, [0, 2])
        self.assertEqual([t.rows for t in kept[0]], [[1, 3], [4, 6]])


if __name__ == "__main__":
    unittest.main()
