"""The seed recipe's q/k/v/o targets on a Phi-3-shaped model (fused qkv_proj and gate_up_proj):
LoRA lands on qkv_proj and o_proj, and the widening is logged. A tiny random Phi3ForCausalLM
built from a config; nothing is downloaded."""

import unittest

from .helpers import require_torch_stack

require_torch_stack()

import torch  # noqa: E402


class FusedTargets(unittest.TestCase):
    def test_seed_recipe_targets_on_phi3(self) -> None:
        from transformers import Phi3Config, Phi3ForCausalLM

        from distillery_trainer.model_setup import wrap_with_lora

        torch.manual_seed(0)
        config = Phi3Config(
            vocab_size=128,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=64,
            pad_token_id=0,
        )
        model = Phi3ForCausalLM(config)
        logs = []
        lora = {
            "r": 4,
            "lora_alpha": 8.0,
            "lora_dropout": 0.0,
            "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
            "bias": "none",
            "task_type": "CAUSAL_LM",
        }
        peft_model = wrap_with_lora(model, lora, [], reload=lambda: model, log=lambda m, level="info": logs.append(m))
        adapted = sorted({n.split(".lora_A")[0].rsplit(".", 1)[-1] for n, _ in peft_model.named_parameters() if ".lora_A" in n})
        self.assertEqual(adapted, ["o_proj", "qkv_proj"])
        self.assertTrue(any("qkv_proj" in m for m in logs))
        out = peft_model(input_ids=torch.tensor([[1, 2, 3, 4]]), labels=torch.tensor([[1, 2, 3, 4]]))
        out.loss.backward()
        grads = [p.grad for n, p in peft_model.named_parameters() if "qkv_proj.lora_B" in n]
        self.assertTrue(grads and all(g is not None for g in grads))


if __name__ == "__main__":
    unittest.main()
