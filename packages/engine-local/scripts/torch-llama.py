"""An independent PyTorch implementation of the Llama forward pass (the transformers math), used
two ways by the engine's tooling:

  torch-llama.py logits <model_dir> <ids.json> <out.f32> [<adapter_dir>]
                                                           write float32 logits for the ids; with an
                                                           adapter, applied as PEFT applies it
  torch-llama.py bench <json shapes>                       print the median LoRA training step
  torch-llama.py rope <json [[hd, theta, positions], …]>    print transformers' rotary tables (float32 bits)

It reads config.json and model.safetensors itself (numpy), so it needs only Debian's
python3-torch, and shares no code with the TypeScript engine it checks."""

import json
import math
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        a, b = info["data_offsets"]
        arr = np.frombuffer(buf[8 + n + a : 8 + n + b], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def rope_tables(seq, hd, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    freqs = torch.outer(torch.arange(seq, dtype=torch.float32), inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


class Llama:
    """Llama / Qwen2 / Qwen3 (SmolLM2 is Llama): biases wherever the checkpoint has them, Qwen3's
    q_norm / k_norm over each head before RoPE, head_dim from the config."""

    def __init__(self, cfg, weights, lora=None):
        self.cfg = cfg
        self.w = weights
        self.lora = lora or {}
        self.embed_in = weights["model.embed_tokens.weight"]
        tied = cfg.get("tie_word_embeddings", False)
        self.head = self.embed_in if tied or "lm_head.weight" not in weights else weights["lm_head.weight"]

    def linear(self, x, name, bias=True):
        y = x @ self.w[name + ".weight"].T
        if bias and (name + ".bias") in self.w:
            y = y + self.w[name + ".bias"]
        if name in self.lora:
            a, b, scale = self.lora[name]
            y = y + (x @ a.T) @ b.T * scale
        return y

    def forward(self, ids):
        c = self.cfg
        B, T = ids.shape
        d = c["hidden_size"]
        H = c["num_attention_heads"]
        KVH = c.get("num_key_value_heads") or H
        hd = c.get("head_dim") or (128 if c.get("model_type") == "qwen3" else d // H)
        eps = c.get("rms_norm_eps", 1e-6)
        cos, sin = rope_tables(T, hd, c.get("rope_theta", 10000.0))
        mask = torch.full((T, T), float("-inf")).triu(1)
        h = self.embed_in[ids]
        for l in range(c["num_hidden_layers"]):
            p = f"model.layers.{l}"
            x = rms_norm(h, self.w[p + ".input_layernorm.weight"], eps)
            q = self.linear(x, p + ".self_attn.q_proj").view(B, T, H, hd).transpose(1, 2)
            k = self.linear(x, p + ".self_attn.k_proj").view(B, T, KVH, hd).transpose(1, 2)
            v = self.linear(x, p + ".self_attn.v_proj").view(B, T, KVH, hd).transpose(1, 2)
            if (p + ".self_attn.q_norm.weight") in self.w:
                q = rms_norm(q, self.w[p + ".self_attn.q_norm.weight"], eps)
                k = rms_norm(k, self.w[p + ".self_attn.k_norm.weight"], eps)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            k = k.repeat_interleave(H // KVH, dim=1)
            v = v.repeat_interleave(H // KVH, dim=1)
            s = (q @ k.transpose(2, 3)) / math.sqrt(hd) + mask
            a = (F.softmax(s.float(), dim=-1) @ v).transpose(1, 2).reshape(B, T, H * hd)
            h = h + self.linear(a, p + ".self_attn.o_proj")
            x = rms_norm(h, self.w[p + ".post_attention_layernorm.weight"], eps)
            g = self.linear(x, p + ".mlp.gate_proj")
            u = self.linear(x, p + ".mlp.up_proj")
            h = h + self.linear(F.silu(g) * u, p + ".mlp.down_proj")
        h = rms_norm(h, self.w["model.norm.weight"], eps)
        return h @ self.head.T


def tokenizer_size(adapter_dir):
    """len(tokenizer) of the adapter's tokenizer.json: the vocabulary a PEFT user resizes to."""
    try:
        tok = json.load(open(f"{adapter_dir}/tokenizer.json"))
    except FileNotFoundError:
        return 0
    ids = list(tok["model"]["vocab"].values()) + [t["id"] for t in tok.get("added_tokens", [])]
    return max(ids) + 1


def apply_peft_adapter(model, adapter_dir):
    """What `model.resize_token_embeddings(len(tokenizer)); PeftModel.from_pretrained(model, dir)`
    computes, written from PEFT's semantics: LoRA adds scale·B·A; modules_to_save replaces the
    module (with tied embeddings the LM head keeps the base's tied weight); trainable_token_indices
    writes its rows over the resized base's with index_copy (PEFT >= 0.15 ties the LM head's token
    adapter to the embedding's, so with tied weights the head sees them too). New rows of the
    resize are random here, so any row the adapter fails to carry shows up in the logits."""
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    t = read_safetensors(f"{adapter_dir}/adapter_model.safetensors")
    scale = cfg["lora_alpha"] / (math.sqrt(cfg["r"]) if cfg.get("use_rslora") else cfg["r"])
    pre = "base_model.model."
    for key in t:
        if key.endswith(".lora_A.weight"):
            name = key[len(pre) : -len(".lora_A.weight")]
            model.lora[name] = (t[key], t[pre + name + ".lora_B.weight"], scale)
    indices = cfg.get("trainable_token_indices") or {}
    if isinstance(indices, list):
        indices = {"embed_tokens": indices}
    indices = {k.split(".")[-1]: v for k, v in indices.items()}
    saved_embed = t.get(pre + "model.embed_tokens.weight")
    old_v, d = model.embed_in.shape
    new_v = max([old_v, tokenizer_size(adapter_dir)] + [max(v) + 1 for v in indices.values() if v])
    if saved_embed is not None:
        new_v = max(new_v, saved_embed.shape[0])
    tied = model.head is model.embed_in
    gen = torch.Generator().manual_seed(1234)
    grow = lambda w: torch.cat([w, torch.randn(new_v - w.shape[0], d, generator=gen)]) if new_v > w.shape[0] else w
    base_embed = grow(model.embed_in)
    base_head = base_embed if tied else grow(model.head)
    model.embed_in, model.head = base_embed, base_head
    mts = cfg.get("modules_to_save") or []
    if "embed_tokens" in mts and saved_embed is not None:
        model.embed_in = saved_embed  # the head stays tied to the base's (original_module) weight
    if "lm_head" in mts and (pre + "lm_head.weight") in t:
        model.head = t[pre + "lm_head.weight"]
    if "embed_tokens" in indices:
        idx = torch.tensor(indices["embed_tokens"])
        rows = t[pre + "model.embed_tokens.token_adapter.trainable_tokens_delta"]
        model.embed_in = base_embed.index_copy(0, idx, rows)
        if tied:
            model.head = model.embed_in
    if "lm_head" in indices:
        idx = torch.tensor(indices["lm_head"])
        model.head = base_head.index_copy(0, idx, t[pre + "lm_head.token_adapter.trainable_tokens_delta"])


def cmd_logits(model_dir, ids_path, out_path, adapter_dir=None):
    cfg = json.load(open(f"{model_dir}/config.json"))
    model = Llama(cfg, read_safetensors(f"{model_dir}/model.safetensors"))
    if adapter_dir:
        apply_peft_adapter(model, adapter_dir)
    ids = torch.tensor(json.load(open(ids_path)), dtype=torch.long)
    with torch.no_grad():
        logits = model.forward(ids)
    logits.numpy().astype("<f4").tofile(out_path)


def cmd_bench(spec):
    """A LoRA training step with the engine's bench shapes: random init at 0.02, LoRA B at zero
    plus a small perturbation so every product is real, AdamW on the LoRA params, clip 1.0."""
    s = json.loads(spec)
    torch.manual_seed(0)
    V, d, L, H, ff, B, T, r, alpha = (s[k] for k in ["vocab", "hidden", "layers", "heads", "intermediate", "batch", "seq", "r", "alpha"])
    # optional (the `student` shape): GQA, head_dim, tied embeddings, rope theta
    KVH, hd, tie = s.get("kv_heads", H), s.get("head_dim", d // H), s.get("tie", False)
    cfg = {"hidden_size": d, "num_attention_heads": H, "num_key_value_heads": KVH, "head_dim": hd, "num_hidden_layers": L, "rms_norm_eps": 1e-5, "rope_theta": float(s.get("theta", 10000.0)), "tie_word_embeddings": tie}
    w = {"model.embed_tokens.weight": torch.randn(V, d) * 0.02, "model.norm.weight": torch.ones(d)}
    if not tie:
        w["lm_head.weight"] = torch.randn(V, d) * 0.02
    lora = {}
    params = []
    for l in range(L):
        p = f"model.layers.{l}"
        w[p + ".input_layernorm.weight"] = torch.ones(d)
        w[p + ".post_attention_layernorm.weight"] = torch.ones(d)
        for n, (o, i) in {"self_attn.q_proj": (H * hd, d), "self_attn.k_proj": (KVH * hd, d), "self_attn.v_proj": (KVH * hd, d), "self_attn.o_proj": (d, H * hd), "mlp.gate_proj": (ff, d), "mlp.up_proj": (ff, d), "mlp.down_proj": (d, ff)}.items():
            w[f"{p}.{n}.weight"] = torch.randn(o, i) * 0.02
            if n.startswith("self_attn"):
                a = ((torch.rand(r, i) * 2 - 1) / math.sqrt(i)).requires_grad_()
                b = (torch.randn(o, r) * 1e-3).requires_grad_()
                lora[f"{p}.{n}"] = (a, b, alpha / r)
                params += [a, b]
    model = Llama(cfg, w, lora)
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    ids = torch.randint(0, V, (B, T + 1))
    times = []
    for i in range(s["warmup"] + s["steps"]):
        t0 = time.perf_counter()
        logits = model.forward(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if i >= s["warmup"]:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    import resource

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"median_ms": times[len(times) // 2], "threads": torch.get_num_threads(), "torch": torch.__version__, "peak_rss_mib": round(peak_mib)}))


def cmd_rope(spec):
    """transformers' default rotary parameters and tables, as float32 bit patterns, with whether
    torch's float32 power was the correctly rounded one (its CPU kernel is accurate to 1 ulp)."""
    out = []
    for hd, theta, positions in json.loads(spec):
        exponent = torch.arange(0, hd, 2, dtype=torch.int64).float() / hd
        power = theta**exponent
        inv_freq = 1.0 / power
        exact_power = torch.from_numpy((np.float64(theta) ** exponent.numpy().astype(np.float64)).astype(np.float32))
        pos = torch.arange(positions, dtype=torch.float32)[None, :, None]
        freqs = (inv_freq[None, :, None].float() @ pos.transpose(1, 2).float()).transpose(1, 2)[0]
        bits = lambda t: t.contiguous().view(torch.int32).flatten().tolist()
        out.append(
            {
                "inv_freq": bits(inv_freq),
                "power_correctly_rounded": (power == exact_power).tolist(),
                "angle": bits(freqs),
                "cos": bits(freqs.cos()),
                "sin": bits(freqs.sin()),
            }
        )
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "logits":
        cmd_logits(*sys.argv[2:6])
    elif sys.argv[1] == "rope":
        cmd_rope(sys.argv[2])
    elif sys.argv[1] == "bench":
        cmd_bench(sys.argv[2])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
