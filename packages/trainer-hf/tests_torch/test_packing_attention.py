"""Packed rows must give every example exactly the logits it gets alone."""

import tempfile
import unittest

from .helpers import require_torch_stack

require_torch_stack()

import torch  # noqa: E402
from transformers import AutoModelForCausalLM  # noqa: E402

from distillery_trainer.data import Collator, select_packing_mode  # noqa: E402
from distillery_trainer.formatting import TokenizedExample  # noqa: E402
from distillery_trainer.packing import pack_row  # noqa: E402

from .helpers import make_tiny_llama  # noqa: E402


class PackingIsolation(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.TemporaryDirectory()
        make_tiny_llama(cls.dir.name)
        cls.model = AutoModelForCausalLM.from_pretrained(cls.dir.name, attn_implementation="sdpa").eval()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.dir.cleanup()

    def packed_vs_alone(self, mode: str) -> float:
        a, b, c = [1, 10, 11, 12, 13], [1, 20, 21, 22, 23, 24, 25], [1, 30, 31]
        rows = [pack_row([TokenizedExample(x, x) for x in (a, b, c)]), pack_row([TokenizedExample(a, a)])]
        batch = Collator(mode, pad_id=0)(rows)
        batch.pop("num_tokens")
        batch.pop("labels")
        with torch.no_grad():
            logits = self.model(**batch, use_cache=False).logits
            worst = 0.0
            offset = 0
            for x in (a, b, c):
                alone = self.model(input_ids=torch.tensor([x])).logits[0]
                packed = logits[0, offset : offset + len(x)]
                worst = max(worst, (packed - alone).abs().max().item())
                offset += len(x)
        return worst

    def test_explicit_mask_mode_is_isolated(self) -> None:
        self.assertLess(self.packed_vs_alone("mask"), 1e-4)

    def test_trainer_picks_an_isolated_packing_mode(self) -> None:
        messages = []
        mode = select_packing_mode(
            self.model, ["position-ids", "mask"], self.model.config.vocab_size, torch.device("cpu"), torch.float32,
            lambda m, level: messages.append(m),
        )
        self.assertIn(mode, ("position-ids", "mask"), messages)
        self.assertLess(self.packed_vs_alone(mode), 1e-4)
        print(f"\npacking mode chosen on this transformers version: {mode}")


if __name__ == "__main__":
    unittest.main()
