"""`check`: what this Python environment offers, as one JSON object (the worker reads it to
decide whether to advertise the `hf` engine). Never raises: a missing piece is a reason."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from importlib import metadata
from typing import Optional

REQUIRED = ("torch", "transformers", "peft", "accelerate", "safetensors")
OPTIONAL = ("bitsandbytes", "flash_attn", "trl", "datasets", "jsonschema", "huggingface_hub")
# distribution names differ from import names for some packages
_DISTRIBUTIONS = {"flash_attn": "flash-attn"}


def package_version(name: str) -> Optional[str]:
    for dist in (_DISTRIBUTIONS.get(name, name), name):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def can_import(name: str) -> bool:
    """Whether `import name` succeeds here. Stricter than an installed distribution: a
    bitsandbytes built for another CUDA is installed yet raises on import."""
    try:
        importlib.import_module(name)
        return True
    except Exception:
        return False


def _cuda_info() -> dict:
    info: dict = {"available": False, "deviceCount": 0, "devices": [], "bf16": False}
    try:
        import torch
    except Exception as e:  # broken CUDA libraries raise more than ImportError
        info["error"] = f"import torch failed: {e}"
        return info
    info["torchCuda"] = getattr(torch.version, "cuda", None)
    try:
        if torch.cuda.is_available():
            count = torch.cuda.device_count()
            info["available"] = count > 0
            info["deviceCount"] = count
            for i in range(count):
                props = torch.cuda.get_device_properties(i)
                info["devices"].append(
                    {"name": props.name, "memoryMb": int(props.total_memory // (1024 * 1024))}
                )
            info["bf16"] = bool(torch.cuda.is_bf16_supported())
    except Exception as e:
        info["error"] = f"CUDA query failed: {e}"
    return info


def check_environment() -> dict:
    versions = {"python": platform.python_version()}
    missing = []
    for name in REQUIRED:
        v = package_version(name)
        if v is None:
            missing.append(name)
        else:
            versions[name] = v
    for name in OPTIONAL:
        v = package_version(name)
        if v is not None:
            versions[name] = v
    report: dict = {
        "available": False,
        "python": sys.executable,
        "versions": versions,
        "bitsandbytes": "bitsandbytes" in versions,
        "flashAttention": "flash_attn" in versions,
        "gpus": [],
    }
    if missing:
        report["reason"] = f"missing Python packages: {', '.join(missing)}"
        return report
    cuda = _cuda_info()
    report["cuda"] = cuda
    report["gpus"] = cuda["devices"]
    if cuda.get("error"):
        report["reason"] = cuda["error"]
    elif not cuda["available"]:
        if os.environ.get("DISTILLERY_HF_ALLOW_CPU") == "1":
            report["available"] = True
            report["reason"] = "no CUDA GPU; DISTILLERY_HF_ALLOW_CPU=1 allows CPU runs"
        else:
            report["reason"] = "no CUDA GPU visible to torch"
    else:
        report["available"] = True
    return report
