"""`train`: one run, from the EngineJob to the adapter and the merged model, events on stdout."""

from __future__ import annotations

import dataclasses
import inspect
import os

import torch
import transformers
from transformers import Trainer, TrainingArguments

from . import checks
from .callbacks import EventCallback, StopFlag, TokenCounter
from .checkpoints import checkpoints_dir, dir_size, latest_checkpoint
from .data import Collator, build_dataset, packing_candidates, select_packing_mode
from .env_check import can_import, package_version
from .errors import TrainerError
from .events import Emitter
from .formatting import split_eval, tokenize_rows
from .hf_args import (
    BNB_OPTIMIZERS,
    bnb_quantization_kwargs,
    lora_arguments,
    merge_dtype,
    quantization_of,
    training_arguments,
)
from .hub_push import open_hub_export
from .job import Job, read_examples
from .model_setup import (
    attention_implementation,
    load_model,
    load_tokenizer,
    resize_embeddings,
    torch_dtype_of,
    trainable_summary,
    wrap_with_lora,
)
from .templates import chat_template_for, encode_rendered


class DistilleryTrainer(Trainer):
    """Trainer that counts real (non-padding) tokens for tokens/s."""

    def __init__(self, *args, token_counter: TokenCounter, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.token_counter = token_counter

    def training_step(self, model, inputs, *args, **kwargs):
        n = inputs.pop("num_tokens", None)
        if n is not None:
            self.token_counter.add(int(n))
        return super().training_step(model, inputs, *args, **kwargs)

    def prediction_step(self, model, inputs, *args, **kwargs):
        inputs.pop("num_tokens", None)
        return super().prediction_step(model, inputs, *args, **kwargs)


def make_training_arguments(kwargs: dict, log) -> TrainingArguments:
    """Builds TrainingArguments across transformers versions, renaming or dropping what this
    version does not know (and saying so)."""
    known = {f.name for f in dataclasses.fields(TrainingArguments)}
    kwargs = dict(kwargs)
    if "eval_strategy" not in known and "evaluation_strategy" in known:
        kwargs["evaluation_strategy"] = kwargs.pop("eval_strategy")
    if "warmup_ratio" not in known and "warmup_ratio" in kwargs:
        kwargs["warmup_steps"] = kwargs.pop("warmup_ratio")  # v5: a float < 1 is a ratio
    dropped = sorted(k for k in kwargs if k not in known)
    if dropped:
        log(f"this transformers version has no TrainingArguments {', '.join(dropped)}; ignored", "debug")
    return TrainingArguments(**{k: v for k, v in kwargs.items() if k in known})


def _remove_stdout_callbacks(trainer: Trainer) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for cb in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(cb)


def run_training(job: Job, emitter: Emitter) -> int:
    log = emitter.log
    config, t = job.config, job.training
    emitter.status("starting", f"transformers {transformers.__version__}, torch {torch.__version__}")
    transformers.set_seed(t["seed"])
    transformers.utils.logging.set_verbosity_warning()
    os.makedirs(job.paths.out_dir, exist_ok=True)

    has_cuda = torch.cuda.is_available()
    quantization = quantization_of(config)
    # importing bitsandbytes is slow and prints: only when the config needs it
    needs_bnb = quantization != "none" or t["optimizer"] in BNB_OPTIMIZERS
    has_bnb = needs_bnb and can_import("bitsandbytes")
    # imports, not just installed: a flash-attn wheel built for another torch/CUDA is installed
    # yet fails inside from_pretrained (transformers' is_flash_attn_2_available reads metadata)
    has_flash = has_cuda and package_version("flash_attn") is not None and can_import("flash_attn")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    bf16_supported = has_cuda and torch.cuda.is_bf16_supported()
    # Preflight: everything the config asks that this machine cannot do fails before the data,
    # the model and the GPU time (a Hub push without a token included).
    checks.check_quantization(config, has_bnb, has_cuda, world_size)
    checks.check_bitsandbytes(config, has_bnb, has_cuda)
    checks.check_precision(t["precision"], has_cuda, bf16_supported)
    hub = open_hub_export(config, os.environ, log)
    if has_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if has_cuda else torch.device("cpu")

    # Data first: a bad dataset fails in seconds, before the model loads.
    emitter.status("loading", "tokenizer and data")
    revision = config["model"].get("revision")
    tokenizer, model_template, new_ids = load_tokenizer(job.paths.base_model, config, revision)
    checks.check_template(config["data"]["template"], model_template)
    tokenizer.chat_template = chat_template_for(config["data"]["template"], model_template)
    distillation = config.get("distillation") or {"mode": "sft"}
    is_distill = distillation.get("mode", "sft") != "sft"
    max_len = int(t["maxSeqLength"])
    stored_topk = None
    endpoint = None
    if is_distill and distillation.get("teacherLogits"):
        from .teacher_logits import StoredTopK, check_for_run, load_teacher_logits

        # logit mode from a stored artifact: the teacher is not run; checked before any model loads
        if not job.paths.teacher_logits:
            raise TrainerError(
                f"teacher logits {distillation['teacherLogits']['artifactId']} were not resolved to a folder for this run",
                code="config_invalid",
                field="distillation.teacherLogits.artifactId",
            )
        stored = load_teacher_logits(job.paths.teacher_logits)
        check_for_run(
            stored,
            student_tokens=tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))),
            student_name=config["model"]["id"],
            data_path=job.paths.train_data,
            max_seq_length=max_len,
            completion_only=t["completionOnlyLoss"],
            top_k=distillation.get("topK"),
        )
        stored_topk = StoredTopK(stored, distillation.get("topK"), max_len)
        m = stored.manifest
        log(
            f"logit distillation from stored teacher logits {job.paths.teacher_logits} (teacher {m.get('teacher')}, "
            f"top-{m['k']} of {m['positions']} positions, the teacher is not run)"
        )
    elif is_distill and distillation.get("teacherEndpoint"):
        from .endpoint_teacher import endpoint_from_job

        # the studio checked the endpoint's tokenizer against the student's before queueing
        endpoint = endpoint_from_job(job.paths.teacher_endpoint, os.environ)
        if endpoint is None:
            raise TrainerError(
                f"teacher endpoint {distillation['teacherEndpoint']['teacherId']} was not resolved for this run",
                code="config_invalid",
                field="distillation.teacherEndpoint",
            )
        if distillation.get("feature"):
            raise TrainerError(
                "feature matching needs the teacher's hidden states, which an endpoint does not return",
                code="config_invalid",
                field="distillation.teacherEndpoint",
            )
        log(
            f"{distillation['mode']} distillation from teacher endpoint {endpoint.name} ({endpoint.url}), "
            f"top-{distillation.get('topK') or 20} prompt_logprobs per position"
        )
    elif is_distill:
        from .distill_trainer import check_same_tokenizer

        # before any model loads: a teacher of another tokenizer cannot be compared id by id
        check_same_tokenizer(tokenizer, job.paths.teacher_model or "", config["model"]["id"])

    rows = read_examples(job.paths.train_data)
    if stored_topk is not None:
        # the artifact is looked up by each example's row in the training file
        rows = [dict(r, source=i) for i, r in enumerate(rows)]
    if job.paths.eval_data:
        eval_rows = read_examples(job.paths.eval_data)
    else:
        rows, eval_rows = split_eval(rows, config["data"]["evalFraction"], t["seed"])
        eval_rows = [{"prompt": r["prompt"], "completion": r["completion"]} for r in eval_rows]

    # rows are rendered by the chat template, special tokens included: the tokenizer adds none
    def encode_prompt(text: str) -> list:
        return encode_rendered(tokenizer, text)

    def encode_completion(text: str) -> list:
        return encode_rendered(tokenizer, text)

    train_examples, stats = tokenize_rows(rows, encode_prompt, encode_completion, max_len, t["completionOnlyLoss"])
    eval_examples, _ = tokenize_rows(eval_rows, encode_prompt, encode_completion, max_len, t["completionOnlyLoss"])
    if not train_examples:
        raise TrainerError("no training example fits maxSeqLength", code="data_invalid", field="training.maxSeqLength")
    log(f"train: {stats.describe()}; eval: {len(eval_examples)} examples")
    checks.check_sample_prompts(
        [p.rendered for p in job.sample_prompts], max_len, [len(encode_prompt(p.rendered)) for p in job.sample_prompts]
    )

    emitter.status("loading", f"model {config['model']['id']}")
    lora_kwargs = lora_arguments(config)
    is_lora = lora_kwargs is not None
    dtype = torch_dtype_of(t["precision"], is_lora)
    attn = attention_implementation(has_cuda, dtype, has_flash)
    bnb_kwargs = bnb_quantization_kwargs(quantization, t["precision"])

    def load_base():
        model = load_model(job.paths.base_model, dtype, attn, bnb_kwargs, {"": local_rank} if has_cuda else None, revision)
        resize_embeddings(model, len(tokenizer))
        model.config.pad_token_id = tokenizer.pad_token_id
        if quantization == "none":
            model.to(device)
        return model

    def prepare_for_kbit(model):
        if quantization == "none":
            return model
        from peft import prepare_model_for_kbit_training

        # use_reentrant passed explicitly: recent torch warns (and plans to raise) without it, and
        # the Trainer re-enables checkpointing with the same kwargs (hf_args.training_arguments).
        return prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=t["gradientCheckpointing"],
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )

    model = load_base()
    log(f"attention: {attn}; dtype {dtype}; {len(new_ids)} new special token(s)")

    mode = "padded"
    if t["packing"]:
        mode = select_packing_mode(model, packing_candidates(attn), model.config.vocab_size, device, dtype, log)

    model = prepare_for_kbit(model)
    if is_lora:
        # the fallback reload must give the same model the first attempt got: prepared for k-bit
        model = wrap_with_lora(model, lora_kwargs, new_ids, lambda: prepare_for_kbit(load_base()), log)
        if t["precision"] == "fp16":
            # GradScaler refuses fp16 gradients: keep every trainable tensor in fp32.
            for p in model.parameters():
                if p.requires_grad:
                    p.data = p.data.float()
    if t["gradientCheckpointing"]:
        model.enable_input_require_grads()
    model.config.use_cache = False
    log(trainable_summary(model))

    train_dataset = build_dataset(train_examples, mode != "padded", max_len)
    eval_dataset = build_dataset(eval_examples, mode != "padded", max_len) if eval_examples else None
    args = make_training_arguments(
        training_arguments(config, job.paths.out_dir, eval_dataset is not None, world_size), log
    )
    trainer_cls, distill_kwargs = DistilleryTrainer, {}
    if is_distill:
        from .distill_trainer import load_teacher, make_distill_trainer

        teacher = None
        if stored_topk is None and endpoint is None:
            teacher_dtype = torch.bfloat16 if bf16_supported else (dtype if dtype != torch.float16 else torch.float32)
            teacher = load_teacher(job.paths.teacher_model, teacher_dtype, device, len(tokenizer), log)
        trainer_cls = make_distill_trainer(DistilleryTrainer)
        distill_kwargs = {
            "teacher": teacher,
            "endpoint": endpoint,
            "distillation": distillation,
            "tokenizer": tokenizer,
            "seed": t["seed"],
        }
        log(f"{distillation['mode']} distillation: beta {distillation.get('beta')}, temperature {distillation['temperature']}, alpha {distillation['alpha']}")
    counter = TokenCounter()
    stop = StopFlag()
    stop.install()
    callback = EventCallback(emitter, job, tokenizer, counter, stop, checkpoints_dir(job.paths.out_dir))
    trainer = trainer_cls(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        data_collator=Collator(mode, tokenizer.pad_token_id, mask_dtype=dtype, stored_topk=stored_topk),
        callbacks=[callback],
        token_counter=counter,
        **distill_kwargs,
    )
    _remove_stdout_callbacks(trainer)

    resume = latest_checkpoint(job.paths.out_dir)
    if resume:
        log(f"resuming from {resume}")
    try:
        result = trainer.train(resume_from_checkpoint=resume)
    except torch.cuda.OutOfMemoryError as e:
        name = torch.cuda.get_device_name(local_rank) if has_cuda else None
        raise checks.describe_oom(str(e), t, name) from e
    step = trainer.state.global_step
    if callback.stopped_by_signal:
        log(f"stopped by signal at step {step}; checkpoint saved, the run resumes from it", "warn")
        return 0

    emitter.status("saving", "adapter" if is_lora else "model")
    final_dir = os.path.join(job.paths.out_dir, "adapter" if is_lora else "model")
    save_final(trainer, tokenizer, final_dir, bool(new_ids))
    trainer.accelerator.wait_for_everyone()
    emitter.artifact("adapter" if is_lora else "model", final_dir, dir_size(final_dir))

    if is_lora and config["merge"]["mergeAndUnload"]:
        emitter.status("merging")
        merged_dir = os.path.join(job.paths.out_dir, "merged")
        if trainer.is_world_process_zero():
            from .merge import merge_adapter

            del model
            release_training_model(trainer)
            merge_adapter(
                job.paths.base_model, final_dir, merged_dir, dtype=merge_dtype(quantization, bf16_supported), revision=revision
            )
        trainer.accelerator.wait_for_everyone()
        emitter.artifact("merged", merged_dir, dir_size(merged_dir))

    if hub is not None:
        emitter.status("exporting", f"pushing to the Hub: {hub.repo_id}")
        url = hub.url
        # Rank 0 alone, and no barrier after it: an upload can outlast the collective timeout,
        # and the other ranks have nothing left to do.
        if trainer.is_world_process_zero():
            url = hub.push(config, job.paths.out_dir, job.run_id, log)
        emitter.artifact("hub", url)

    metrics = dict(callback.final_metrics)
    metrics.setdefault("train_loss", float(result.training_loss))
    emitter.done(step, metrics)
    return 0


def release_training_model(trainer: Trainer) -> None:
    """Frees the training copy before the merge loads a second one. `del trainer.model` alone
    frees nothing: model_wrapped, the callback handler and accelerate's prepared-object lists
    (Accelerator._models, _optimizers, ...) still hold the model and the optimizer state."""
    trainer.accelerator.free_memory()  # drops accelerate's references, gc + empty_cache
    handler = trainer.callback_handler
    for name in ("model", "optimizer", "lr_scheduler", "train_dataloader", "eval_dataloader"):
        if hasattr(handler, name):
            setattr(handler, name, None)
    trainer.model = trainer.model_wrapped = None
    trainer.optimizer = trainer.lr_scheduler = None
    import gc

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def save_final(trainer: Trainer, tokenizer, out_dir: str, has_new_tokens: bool) -> None:
    """The adapter (or full model) with the tokenizer and its chat template. New token rows
    ride along (save_embedding_layers) so the adapter loads onto a freshly resized base."""
    model = trainer.model
    if trainer.is_world_process_zero() and not trainer.is_fsdp_enabled:
        params = inspect.signature(model.save_pretrained).parameters
        kwargs = {"safe_serialization": True}
        if has_new_tokens and "save_embedding_layers" in params:
            kwargs["save_embedding_layers"] = True
        model.save_pretrained(out_dir, **kwargs)
    elif trainer.is_fsdp_enabled:
        trainer.save_model(out_dir)
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out_dir)
