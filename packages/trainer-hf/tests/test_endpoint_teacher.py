"""The endpoint teacher against a real local HTTP server (http.server in a thread) that speaks vLLM's
`/v1/completions` `prompt_logprobs` protocol for a small deterministic "teacher": its top-k equal
the distribution it computes, 429/5xx are retried with Retry-After, the key is sent and never shown,
an endpoint without prompt_logprobs fails naming the teacher and the field, and a logit step with
the endpoint as teacher gives the loss of the same top-k computed directly."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import tempfile
import threading
import types
import unittest
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from distillery_trainer.endpoint_teacher import (
    EndpointTeacher,
    endpoint_from_job,
    endpoint_topk,
    read_api_key,
    retry_after_seconds,
    segments_of,
)
from distillery_trainer.errors import TrainerError

HAS_TORCH = importlib.util.find_spec("torch") is not None
V = 23
KEY = "sk-test-0123456789abcdef"


def teacher_logprobs(prefix: list) -> list:
    """The fake teacher's next-token log-probabilities after `prefix` (deterministic)."""
    h = sum((i + 1) * (t + 3) for i, t in enumerate(prefix[-4:]))
    logits = [math.sin(0.37 * (h % 97) + 1.3 * j) * 3 + (2.0 if j == (h % V) else 0.0) for j in range(V)]
    m = max(logits)
    lse = m + math.log(sum(math.exp(x - m) for x in logits))
    return [x - lse for x in logits]


class Server:
    """A vLLM-shaped completions server. `script` is a list of actions consumed one per request:
    ("status", code, headers, body) or "ok"; when empty, every request is answered."""

    def __init__(self, *, omit_prompt_logprobs: bool = False, key: str = KEY) -> None:
        self.script: list = []
        self.requests: list = []
        self.omit = omit_prompt_logprobs
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def reply(self, code: int, body, headers=None) -> None:
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                if self.path != "/v1/completions":
                    return self.reply(404, {"error": {"message": "no route"}})
                if key and self.headers.get("Authorization") != f"Bearer {key}":
                    # echoes what it got, as a careless server might: the client must not show it
                    return self.reply(401, {"error": {"message": f"bad key {self.headers.get('Authorization')}"}})
                if outer.script:
                    action = outer.script.pop(0)
                    if action != "ok":
                        _, code, headers, payload = action
                        return self.reply(code, payload, headers)
                ids = body["prompt"]
                k = int(body["prompt_logprobs"])
                plp: list = [None]
                for j in range(1, len(ids)):
                    lp = teacher_logprobs(ids[:j])
                    order = sorted(range(V), key=lambda i: (-lp[i], i))
                    entry = {str(i): {"logprob": lp[i], "rank": r + 1, "decoded_token": f"t{i}"} for r, i in enumerate(order[:k])}
                    actual = ids[j]
                    entry.setdefault(str(actual), {"logprob": lp[actual], "rank": order.index(actual) + 1, "decoded_token": f"t{actual}"})
                    plp.append(entry)
                choice = {"index": 0, "text": " x", "logprobs": None, "finish_reason": "length"}
                if not outer.omit:
                    choice["prompt_logprobs"] = plp
                return self.reply(200, {"id": "cmpl-1", "object": "text_completion", "model": body["model"], "choices": [choice]})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class EndpointTeacherTests(unittest.TestCase):
    def setUp(self) -> None:
        self.server = Server()
        self.addCleanup(self.server.close)
        self.waits: list = []
        self.teacher = EndpointTeacher(self.server.url, "teacher-7b", name="Teacher 7B", api_key=KEY, sleep=self.waits.append, timeout=10)

    def test_top_k_and_target_logprobs_are_the_teachers(self) -> None:
        ids = [3, 9, 1, 17, 4, 4, 12]
        out = self.teacher.score(ids, 5)
        self.assertEqual(len(out), len(ids) - 1)
        req = self.server.requests[-1]
        self.assertEqual(req["body"]["prompt"], ids)
        self.assertEqual(req["body"]["max_tokens"], 1)
        self.assertEqual(req["body"]["prompt_logprobs"], 5)
        self.assertEqual(req["auth"], f"Bearer {KEY}")
        for t, (top, target) in enumerate(out):
            lp = teacher_logprobs(ids[: t + 1])
            want = sorted(range(V), key=lambda i: (-lp[i], i))[:5]
            self.assertEqual([i for i, _ in top], want)  # the k best, best first; the actual token not added
            for i, v in top:
                self.assertAlmostEqual(v, lp[i], places=12)
            self.assertAlmostEqual(target, lp[ids[t + 1]], places=12)

    def test_429_and_5xx_are_retried_with_retry_after(self) -> None:
        date = formatdate(timeval=__import__("time").time() + 3, usegmt=True)
        self.server.script = [
            ("status", 429, {"Retry-After": "2"}, {"error": {"message": "slow down"}}),
            ("status", 503, {"Retry-After": date}, {"error": {"message": "loading"}}),
            ("status", 502, {}, b"bad gateway"),
            "ok",
        ]
        out = self.teacher.score([1, 2, 3], 3)
        self.assertEqual(len(out), 2)
        self.assertEqual(len(self.server.requests), 4)
        self.assertEqual(self.waits[0], 2.0)
        self.assertTrue(1.0 <= self.waits[1] <= 3.5, self.waits)
        self.assertTrue(0 < self.waits[2] <= 0.5 * 2**2, self.waits)  # no Retry-After: backoff
        self.assertEqual(self.teacher.retries, 3)

    def test_giving_up_names_the_teacher_and_the_last_answer(self) -> None:
        self.server.script = [("status", 503, {"Retry-After": "0"}, {"error": {"message": "overloaded"}})] * 6
        with self.assertRaises(TrainerError) as e:
            self.teacher.score([1, 2, 3], 3)
        self.assertIn("Teacher 7B", e.exception.message)
        self.assertIn("failed after 6 attempts", e.exception.message)
        self.assertIn("503", e.exception.message)
        self.assertEqual(e.exception.field, "distillation.teacherEndpoint")

    def test_a_bad_key_is_not_retried_and_never_shown(self) -> None:
        bad = EndpointTeacher(self.server.url, "teacher-7b", api_key="sk-wrong-secret-value", sleep=self.waits.append)
        with self.assertRaises(TrainerError) as e:
            bad.score([1, 2, 3], 3)
        self.assertEqual(len(self.server.requests), 1)
        self.assertEqual(e.exception.code, "teacher_failed")
        self.assertNotIn("sk-wrong-secret-value", json.dumps(e.exception.to_event_body()))
        self.assertNotIn("sk-wrong-secret-value", repr(bad))
        self.assertIn("401", e.exception.message)

    def test_an_endpoint_without_prompt_logprobs_fails_naming_the_teacher_and_the_field(self) -> None:
        server = Server(omit_prompt_logprobs=True)
        self.addCleanup(server.close)
        t = EndpointTeacher(server.url + "/v1", "gpt-x", name="OpenAI gpt-x", api_key=KEY, sleep=self.waits.append)
        with self.assertRaises(TrainerError) as e:
            t.score([1, 2, 3], 3)
        self.assertIn("OpenAI gpt-x", e.exception.message)
        self.assertIn("prompt_logprobs", e.exception.message)
        self.assertEqual(e.exception.code, "config_invalid")
        self.assertEqual(e.exception.field, "distillation.teacherEndpoint")

    def test_a_packed_batch_is_one_request_per_example_with_only_its_ids(self) -> None:
        a, b, c = [5, 6, 7, 8], [9, 10, 11], [2, 3, 4, 5, 6]
        input_ids = [a + b + [0, 0], c + [0] * 4]
        position_ids = [[0, 1, 2, 3, 0, 1, 2, 0, 1], [0, 1, 2, 3, 4, 0, 1, 2, 3]]
        labels = [[-100, -100, 7, 8, -100, 10, 11, -100, -100], [-100, -100, -100, 5, 6, -100, -100, -100, -100]]
        self.assertEqual(segments_of(input_ids, position_ids), [[(0, 4), (4, 3), (7, 2)], [(0, 5), (5, 4)]])
        ids, lps, target = endpoint_topk(self.teacher, input_ids, labels, 4, position_ids=position_ids)
        self.assertEqual(sorted(tuple(r["body"]["prompt"]) for r in self.server.requests), sorted([tuple(a), tuple(b), tuple(c)]))
        # entry (row, t) is the distribution of the token at t + 1, filled where that label counts
        lp = teacher_logprobs(b[:1])
        self.assertEqual(list(ids[0, 4]), sorted(range(V), key=lambda i: (-lp[i], i))[:4])
        self.assertAlmostEqual(float(target[0, 4]), lp[10], places=5)
        self.assertTrue(math.isnan(float(target[0, 0])))  # label 1 does not count
        self.assertEqual(float(abs(lps[1, 5:]).sum()), 0.0)

    def test_key_from_the_jobs_key_file_or_env_and_retry_after_forms(self) -> None:
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write(KEY + "\n")
        self.addCleanup(os.unlink, f.name)
        os.chmod(f.name, 0o644)
        with self.assertRaisesRegex(TrainerError, "readable by others"):
            read_api_key({}, f.name)
        os.chmod(f.name, 0o600)
        self.assertEqual(read_api_key({}, f.name), KEY)
        self.assertEqual(read_api_key({"DISTILLERY_TEACHER_API_KEY": "k1"}, f.name), KEY)
        self.assertEqual(read_api_key({"DISTILLERY_TEACHER_API_KEY": "k1"}), "k1")
        self.assertIsNone(read_api_key({}))
        with self.assertRaises(TrainerError) as e:
            read_api_key({}, "/nonexistent/key")
        self.assertEqual(e.exception.code, "environment")
        self.assertEqual(retry_after_seconds("7"), 7.0)
        self.assertIsNone(retry_after_seconds("soon"))
        self.assertAlmostEqual(retry_after_seconds("Thu, 01 Jan 2026 00:00:10 GMT", now=1767225600.0), 10.0)
        spec = {"name": "Teacher 7B", "baseUrl": self.server.url, "model": "teacher-7b", "keyFile": f.name}
        t = endpoint_from_job(spec, {})
        self.assertEqual(t.url, self.server.url + "/v1/completions")
        self.assertEqual(t.name, "Teacher 7B")
        self.assertEqual(len(t.score([1, 2], 2)), 1)
        self.assertEqual(self.server.requests[-1]["auth"], f"Bearer {KEY}")
        self.assertIsNone(endpoint_from_job(None, {}))

    def test_requests_per_minute_spaces_the_requests(self) -> None:
        waits: list = []
        t = EndpointTeacher(self.server.url, "teacher-7b", api_key=KEY, requests_per_minute=600, sleep=waits.append)
        t.score_many([[1, 2], [3, 4], [5, 6]], 2)
        self.assertEqual(len(self.server.requests), 3)
        self.assertEqual(len(waits), 2)  # the 2nd and 3rd wait for their slot, ~0.1 s apart
        self.assertTrue(all(0 < w <= 0.2 + 1e-6 for w in waits), waits)

    @unittest.skipUnless(HAS_TORCH, "torch is not installed")
    def test_a_logit_step_with_the_endpoint_equals_the_same_top_k_given_directly(self) -> None:
        import torch

        from distillery_trainer.distill_loss import mixed_loss
        from distillery_trainer.distill_trainer import make_distill_trainer

        class Model(torch.nn.Module):
            def __init__(self, logits):
                super().__init__()
                self.logits = torch.nn.Parameter(logits)

            def forward(self, input_ids, **_):
                return types.SimpleNamespace(logits=self.logits)

        class Base:
            def __init__(self, model=None, args=None):
                self.model = model
                self.args = args

            def log(self, logs, *a, **k):
                self.logged = dict(logs)

        g = torch.Generator().manual_seed(3)
        input_ids = torch.tensor([[1, 4, 6, 2, 9, 3], [7, 7, 1, 5, 0, 0]])
        mask = torch.tensor([[1] * 6, [1, 1, 1, 1, 0, 0]])
        labels = torch.tensor([[-100, -100, 6, 2, 9, 3], [-100, -100, 1, 5, -100, -100]])
        logits = torch.randn(2, 6, V, generator=g, dtype=torch.float64)
        d = {"mode": "logit", "alpha": 0.25, "beta": 0.5, "temperature": 1.5, "topK": 5, "lmbda": 1.0}
        model = Model(logits.clone())
        tr = make_distill_trainer(Base)(model=model, args=None, teacher=None, endpoint=self.teacher, distillation=d, tokenizer=None, seed=0)
        loss = tr.compute_loss(model, {"input_ids": input_ids, "attention_mask": mask, "labels": labels.clone()})
        # the same top-k computed here from the fake teacher's function
        ids = torch.zeros(2, 5, 5, dtype=torch.long)
        lps = torch.zeros(2, 5, 5, dtype=torch.float64)
        for b in range(2):
            for t in range(5):
                lp = teacher_logprobs(input_ids[b, : t + 1].tolist())
                top = sorted(range(V), key=lambda i: (-lp[i], i))[:5]
                ids[b, t] = torch.tensor(top)
                lps[b, t] = torch.tensor([lp[i] for i in top])
        ref = mixed_loss(logits[:, :-1], labels[:, 1:], alpha=0.25, beta=0.5, temperature=1.5, topk_ids=ids, topk_logprobs=lps)
        # the endpoint's log-probs come as float32: equal within its rounding
        self.assertAlmostEqual(float(loss), float(ref["loss"]), places=6)
        tr.log({"loss": 0.0})
        self.assertIn("teacher_logprob", tr.logged)
        want = sum(teacher_logprobs(input_ids[b, : t + 1].tolist())[int(labels[b, t + 1])] for b, t in ((0, 1), (0, 2), (0, 3), (0, 4), (1, 1), (1, 2))) / 6
        self.assertAlmostEqual(tr.logged["teacher_logprob"], want, places=5)
        self.assertEqual(len(self.server.requests), 2)  # one per example
        # the padded row is sent without its padding
        self.assertIn([7, 7, 1, 5], [r["body"]["prompt"] for r in self.server.requests])

    @unittest.skipUnless(HAS_TORCH, "torch is not installed")
    def test_on_policy_scores_the_students_samples_and_a_missing_field_fails_the_first_batch(self) -> None:
        import torch

        from distillery_trainer.distill_loss import mixed_loss
        from distillery_trainer.distill_trainer import make_distill_trainer

        EOS, PAD = 2, 0

        class Model(torch.nn.Module):
            """logits = a learned table by input id; generate() samples a fixed continuation."""

            def __init__(self):
                super().__init__()
                self.table = torch.nn.Parameter(torch.randn(V, V, generator=torch.Generator().manual_seed(4), dtype=torch.float64))
                self.training = True

            def forward(self, input_ids, **_):
                return types.SimpleNamespace(logits=self.table[input_ids])

            def generate(self, input_ids, attention_mask, max_new_tokens, **_):
                tails = torch.tensor([[11, 12, EOS, 9], [13, 14, 15, 16]])[:, :max_new_tokens]
                return torch.cat([input_ids, tails], 1)

        class Base:
            def __init__(self, model=None, args=None):
                self.model = model
                self.args = args

            def log(self, logs, *a, **k):
                self.logged = dict(logs)

        tok = types.SimpleNamespace(
            pad_token_id=PAD, eos_token_id=EOS, all_special_ids=[PAD, EOS], unk_token_id=None, convert_tokens_to_ids=lambda t: None
        )
        d = {"mode": "on-policy", "alpha": 0.0, "temperature": 1.0, "topK": 6, "lmbda": 1.0, "maxNewTokens": 4, "samplingTemperature": 1.0}
        model = Model()
        tr = make_distill_trainer(Base)(model=model, args=None, teacher=None, endpoint=self.teacher, distillation=d, tokenizer=tok, seed=0)
        # two rows: prompts [5, 6, 7] and [8, 9] (labels mark where the completion starts), right padded
        input_ids = torch.tensor([[5, 6, 7, 20, 21], [8, 9, 22, PAD, PAD]])
        labels = torch.tensor([[-100, -100, -100, 20, 21], [-100, -100, 22, -100, -100]])
        loss = tr.compute_loss(model, {"input_ids": input_ids, "attention_mask": (input_ids != PAD).long(), "labels": labels})
        sent = sorted(r["body"]["prompt"] for r in self.server.requests)
        # each prompt + the student's sample up to and with its eos, not the data's completion
        self.assertEqual(sent, sorted([[5, 6, 7, 11, 12, EOS], [8, 9, 13, 14, 15, 16]]))
        # the same loss from the top-k computed here, over the sampled tokens only
        seqs = [[5, 6, 7, 11, 12, EOS], [8, 9, 13, 14, 15, 16]]
        W = 6
        ids = torch.zeros(2, W, dtype=torch.long)
        lab = torch.full((2, W), -100)
        for b, sq in enumerate(seqs):
            ids[b, : len(sq)] = torch.tensor(sq)
        lab[0, 3:6] = torch.tensor([11, 12, EOS])
        lab[1, 2:6] = torch.tensor([13, 14, 15, 16])
        top_i = torch.zeros(2, W - 1, 6, dtype=torch.long)
        top_l = torch.zeros(2, W - 1, 6, dtype=torch.float64)
        target = []
        for b, sq in enumerate(seqs):
            for t in range(len(sq) - 1):
                lp = teacher_logprobs(sq[: t + 1])
                order = sorted(range(V), key=lambda i: (-lp[i], i))[:6]
                top_i[b, t] = torch.tensor(order)
                top_l[b, t] = torch.tensor([lp[i] for i in order])
                if lab[b, t + 1] >= 0:
                    target.append(lp[sq[t + 1]])
        ref = mixed_loss(model.table[ids][:, :-1].detach(), lab[:, 1:], alpha=0.0, beta=1.0, temperature=1.0, topk_ids=top_i, topk_logprobs=top_l)
        self.assertAlmostEqual(float(loss), float(ref["loss"]), places=5)
        loss.backward()
        self.assertGreater(float(model.table.grad.abs().sum()), 0)
        tr.log({"loss": 0.0})
        self.assertAlmostEqual(tr.logged["sampled_length"], (3 + 4) / 2)
        self.assertAlmostEqual(tr.logged["teacher_logprob"], sum(target) / len(target), places=5)

        server = Server(omit_prompt_logprobs=True)
        self.addCleanup(server.close)
        bad = EndpointTeacher(server.url, "gpt-x", name="OpenAI gpt-x", api_key=KEY, sleep=self.waits.append)
        tr = make_distill_trainer(Base)(model=model, args=None, teacher=None, endpoint=bad, distillation=d, tokenizer=tok, seed=0)
        with self.assertRaises(TrainerError) as e:
            tr.compute_loss(model, {"input_ids": input_ids, "attention_mask": (input_ids != PAD).long(), "labels": labels})
        self.assertIn("OpenAI gpt-x", e.exception.message)
        self.assertIn("prompt_logprobs", e.exception.message)


if __name__ == "__main__":
    unittest.main()
