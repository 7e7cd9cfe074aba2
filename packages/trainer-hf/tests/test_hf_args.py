import unittest

from distillery_trainer.hf_args import (
    bnb_quantization_kwargs,
    lora_arguments,
    merge_dtype,
    quantization_of,
    training_arguments,
)
from distillery_trainer.job import parse_job

from .helpers import minimal_job


def seed_recipe_config() -> dict:
    raw = minimal_job()
    raw["config"]["lora"] = {"r": 8, "alpha": 16, "dropout": 0.2, "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
    raw["config"]["training"] = {
        "epochs": 3, "perDeviceBatchSize": 2, "gradientAccumulationSteps": 4, "learningRate": 2e-5,
        "scheduler": "cosine", "warmupRatio": 0.03, "maxGradNorm": 0.3, "precision": "fp16",
        "optimizer": "paged_adamw_32bit", "evalStrategy": "epoch", "saveStrategy": "epoch", "loggingSteps": 50,
    }
    return parse_job(raw).config


class TrainingArgumentsMapping(unittest.TestCase):
    def test_seed_recipe(self) -> None:
        args = training_arguments(seed_recipe_config(), "/runs/r", has_eval=True)
        expected = {
            "output_dir": "/runs/r/checkpoints", "num_train_epochs": 3.0, "max_steps": -1,
            "per_device_train_batch_size": 2, "gradient_accumulation_steps": 4, "learning_rate": 2e-5,
            "lr_scheduler_type": "cosine", "warmup_ratio": 0.03, "max_grad_norm": 0.3, "optim": "paged_adamw_32bit",
            "fp16": True, "bf16": False, "eval_strategy": "epoch", "save_strategy": "epoch", "logging_steps": 50,
            "report_to": "none", "remove_unused_columns": False, "seed": 42,
            # a NaN loss must reach the callback (nan_loss), not be averaged away in the logs
            "logging_nan_inf_filter": False,
        }
        for key, value in expected.items():
            self.assertEqual(args[key], value, key)
        self.assertNotIn("eval_steps", args)
        self.assertNotIn("fsdp", args)

    def test_no_eval_data_means_no_eval(self) -> None:
        args = training_arguments(seed_recipe_config(), "/runs/r", has_eval=False)
        self.assertEqual(args["eval_strategy"], "no")

    def test_steps_strategies_and_checkpointing(self) -> None:
        config = seed_recipe_config()
        config["training"].update(evalStrategy="steps", evalSteps=7, saveStrategy="steps", saveSteps=9,
                                  gradientCheckpointing=True, precision="bf16")
        args = training_arguments(config, "/o", has_eval=True)
        self.assertEqual((args["eval_steps"], args["save_steps"]), (7, 9))
        self.assertEqual(args["gradient_checkpointing_kwargs"], {"use_reentrant": False})
        self.assertTrue(args["bf16"])
        self.assertFalse(args["fp16"])

    def test_multi_gpu(self) -> None:
        config = seed_recipe_config()
        self.assertFalse(training_arguments(config, "/o", True, world_size=2)["ddp_find_unused_parameters"])
        config["resources"]["strategy"] = "fsdp"
        args = training_arguments(config, "/o", True, world_size=4)
        self.assertEqual(args["fsdp"], "full_shard auto_wrap")
        self.assertTrue(args["fsdp_config"]["use_orig_params"])


class LoraMapping(unittest.TestCase):
    def test_seed_recipe(self) -> None:
        self.assertEqual(
            lora_arguments(seed_recipe_config()),
            {"r": 8, "lora_alpha": 16.0, "lora_dropout": 0.2, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],
             "bias": "none", "task_type": "CAUSAL_LM"},
        )

    def test_all_linear_is_passed_as_peft_expects_it(self) -> None:
        # peft expands "all-linear" only as the whole target_modules string, never inside a list
        config = seed_recipe_config()
        config["lora"]["targetModules"] = ["all-linear"]
        self.assertEqual(lora_arguments(config)["target_modules"], "all-linear")
        config["lora"]["targetModules"] = ["q_proj", "all-linear"]
        self.assertEqual(lora_arguments(config)["target_modules"], "all-linear")

    def test_rslora_dora_and_full(self) -> None:
        config = seed_recipe_config()
        config["lora"].update(useRslora=True, useDora=True)
        args = lora_arguments(config)
        self.assertTrue(args["use_rslora"] and args["use_dora"])
        config["lora"]["method"] = "full"
        self.assertIsNone(lora_arguments(config))

    def test_quantization_defaults_to_none(self) -> None:
        config = seed_recipe_config()
        self.assertEqual(quantization_of(config), "none")
        config["lora"]["quantization"] = "nf4"
        self.assertEqual(quantization_of(config), "nf4")


class QuantizationMapping(unittest.TestCase):
    def test_nf4_is_peft_qlora_recipe(self) -> None:
        self.assertEqual(
            bnb_quantization_kwargs("nf4", "bf16"),
            {"load_in_4bit": True, "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": True,
             "bnb_4bit_compute_dtype": "bfloat16"},
        )
        self.assertEqual(bnb_quantization_kwargs("nf4", "fp32")["bnb_4bit_compute_dtype"], "bfloat16")
        self.assertEqual(bnb_quantization_kwargs("nf4", "fp16")["bnb_4bit_compute_dtype"], "float16")

    def test_int8_and_none(self) -> None:
        self.assertEqual(bnb_quantization_kwargs("int8", "bf16"), {"load_in_8bit": True})
        self.assertIsNone(bnb_quantization_kwargs("none", "bf16"))

    def test_merge_reloads_an_unquantized_base(self) -> None:
        self.assertEqual(merge_dtype("none", bf16_supported=True), "auto")
        self.assertEqual(merge_dtype("nf4", bf16_supported=True), "bfloat16")
        self.assertEqual(merge_dtype("int8", bf16_supported=False), "float32")


if __name__ == "__main__":
    unittest.main()
