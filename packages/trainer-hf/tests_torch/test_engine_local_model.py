"""A model directory written by the CPU engine (packages/engine-local) loads in transformers.

Set DISTILLERY_ENGINE_LOCAL_MODEL_DIR to such a directory (config.json with model_type llama,
model.safetensors in float32, tokenizer.json). When it also holds reference_logits.json —
{"input_ids": [[...]], "logits": [[[...]]]} computed by the CPU engine — the logits must match.
"""

import json
import os
import unittest

from .helpers import require_torch_stack

require_torch_stack()

import torch  # noqa: E402

MODEL_DIR = os.environ.get("DISTILLERY_ENGINE_LOCAL_MODEL_DIR")


@unittest.skipUnless(MODEL_DIR, "DISTILLERY_ENGINE_LOCAL_MODEL_DIR is not set")
class EngineLocalModelLoads(unittest.TestCase):
    def test_config_weights_and_tokenizer_load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

        with open(os.path.join(MODEL_DIR, "config.json")) as f:
            self.assertEqual(json.load(f)["model_type"], "llama")
        model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, torch_dtype=torch.float32).eval()
        try:
            tok = AutoTokenizer.from_pretrained(MODEL_DIR)
        except Exception:  # a bare tokenizer.json without tokenizer_config.json
            tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(MODEL_DIR, "tokenizer.json"))
        ids = tok("hello world", return_tensors="pt")["input_ids"]
        self.assertGreater(ids.shape[1], 0)
        with torch.no_grad():
            logits = model(input_ids=ids).logits
        self.assertTrue(torch.isfinite(logits).all())

    def test_logits_match_the_cpu_engine(self) -> None:
        from transformers import AutoModelForCausalLM

        ref_path = os.path.join(MODEL_DIR, "reference_logits.json")
        if not os.path.isfile(ref_path):
            self.skipTest(f"{ref_path} is missing: the CPU engine's logits are needed to compare")
        with open(ref_path) as f:
            ref = json.load(f)
        model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor(ref["input_ids"])).logits
        torch.testing.assert_close(logits, torch.tensor(ref["logits"], dtype=torch.float32), atol=1e-3, rtol=1e-3)


if __name__ == "__main__":
    unittest.main()
