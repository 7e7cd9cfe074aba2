"""Distillery's GPU trainer: transformers + peft behind the studio's event protocol.

Modules that import torch are loaded lazily (train, merge, env_check), so the pure parts
(job parsing, formatting, packing, the event emitter) import and test without torch.
"""

__version__ = "0.1.0"
