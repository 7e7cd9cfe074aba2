import io
import json
import unittest

from distillery_trainer.errors import TrainerError
from distillery_trainer.events import Emitter, EventValidationError
from distillery_trainer.schema import first_error_stdlib, load_schema


def lines_of(stream: io.StringIO) -> list:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


class EmitterTest(unittest.TestCase):
    def make(self, start_seq: int = 0, main: bool = True) -> tuple:
        stream = io.StringIO()
        return Emitter("run_1", start_seq, stream=stream, is_main_process=main, clock=lambda: 1767225600.5), stream

    def test_stamps_run_seq_and_ts_from_start_seq(self) -> None:
        emitter, stream = self.make(start_seq=41)
        emitter.status("starting")
        emitter.log("hello")
        events = lines_of(stream)
        self.assertEqual([e["seq"] for e in events], [41, 42])
        self.assertEqual({e["runId"] for e in events}, {"run_1"})
        self.assertEqual(events[0]["ts"], 1767225600500)

    def test_every_helper_emits_a_schema_valid_event(self) -> None:
        emitter, stream = self.make()
        emitter.status("training", "go", step=0, totalSteps=30, epoch=0.0)
        emitter.log("x", "warn")
        emitter.metric(10, {"loss": 2.5, "learning_rate": 2e-5, "grad_norm": 0.5, "tokens_per_second": 1e4,
                            "gpu_memory_mb": 1234.0, "epoch": 0.3})
        emitter.sample(20, 0, "What is 2+2?", "<think>\nfour\n</think>\n\n4")
        emitter.checkpoint(30, "/runs/run_1/checkpoints/checkpoint-30", epoch=1.0)
        emitter.artifact("adapter", "/runs/run_1/adapter", 1024)
        emitter.artifact("merged", "/runs/run_1/merged")
        emitter.done(30, {"train_loss": 1.0})
        emitter.error(TrainerError("bad", code="config_invalid", field="lora.targetModules", hint="h").to_event_body())
        schema = load_schema("events")
        events = lines_of(stream)
        self.assertEqual(len(events), 9)
        for e in events:
            self.assertIsNone(first_error_stdlib(schema, e), e)
        self.assertEqual(events[-1]["field"], "lora.targetModules")

    def test_one_line_per_event_even_with_newlines_in_text(self) -> None:
        emitter, stream = self.make()
        emitter.sample(1, 0, "a\nb", "c\n\nd")
        self.assertEqual(len(stream.getvalue().splitlines()), 1)

    def test_non_finite_metrics_are_dropped_with_a_warning(self) -> None:
        emitter, stream = self.make()
        emitter.metric(5, {"loss": float("nan"), "grad_norm": float("inf"), "learning_rate": 1e-4})
        events = lines_of(stream)
        self.assertEqual(events[0]["type"], "log")
        self.assertIn("grad_norm", events[0]["message"])
        self.assertEqual(events[1]["values"], {"learning_rate": 1e-4})

    def test_all_non_finite_metric_emits_no_metric(self) -> None:
        emitter, stream = self.make()
        emitter.metric(5, {"loss": float("nan")})
        self.assertEqual([e["type"] for e in lines_of(stream)], ["log"])

    def test_invalid_body_raises_instead_of_writing(self) -> None:
        emitter, stream = self.make()
        with self.assertRaises(EventValidationError):
            emitter.emit({"type": "status", "phase": "sleeping"})
        with self.assertRaises(EventValidationError):
            emitter.emit({"type": "artifact", "kind": "adapter", "path": "/x", "extra": 1})
        self.assertEqual(stream.getvalue(), "")

    def test_other_ranks_stay_silent_but_keep_seq(self) -> None:
        emitter, stream = self.make(main=False)
        emitter.log("x")
        self.assertEqual(stream.getvalue(), "")
        self.assertEqual(emitter.seq, 1)


if __name__ == "__main__":
    unittest.main()
