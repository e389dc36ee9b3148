"""Argument groups for training the sense ranker, read from ``configs/sense_ranker.json``.

One JSON file holds every setting of the shipped model; the CLI can override single values.
"""

import json
import random
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from klarjournal.models.gather_text import TEXT_PACKAGES, VOCAB_PACKAGES


@dataclass
class GatherArgs:
    packages: list[str] = field(default_factory=lambda: list(TEXT_PACKAGES))
    vocab_packages: list[str] = field(default_factory=lambda: list(VOCAB_PACKAGES))
    # Plan texts read at build time only; missing folder = skipped.
    seeds_dir: str | None = None


@dataclass
class TokenizerArgs:
    vocab_size: int = 10000
    min_frequency: int = 3


@dataclass
class PretrainArgs:
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 1024
    max_length: int = 128
    batch_size: int = 32
    learning_rate: float = 7e-4
    warmup_steps: int = 300
    max_steps: int = 6000
    # Wall-clock budget; the schedule is shortened to fit once the step time is known.
    max_minutes: float = 32.0
    mlm_probability: float = 0.15
    # How often the project's own (clinical) paragraphs are repeated in the pretraining text.
    domain_repeat: int = 20
    # Intra-op threads. One is faster on a shared 2-core machine: two OpenMP threads spin against
    # every other process (measured 7x slower per step under load).
    threads: int = 1


@dataclass
class FinetuneArgs:
    # None = the encoder pretrained by `pretrain`; or a path to any local HF checkpoint.
    base_model: str | None = None
    max_length: int = 112
    window_chars: int = 160
    contexts_per_sense: int = 160
    groups_per_batch: int = 16
    learning_rate: float = 3e-4
    warmup_steps: int = 60
    epochs: int = 2
    max_minutes: float = 14.0
    # Share of training candidates shown without their cue/specialty description, so the model
    # also works when the caller passes only "expansion – lay".
    cue_dropout: float = 0.35
    threads: int = 1
    # Written into ranker.json: the ranker then runs its linear layers in int8 (CPU).
    int8_inference: bool = True


@dataclass
class AbstainArgs:
    # Abstain when best probability minus second-best is below this margin.
    margin: float = 0.2


@dataclass
class TrainConfig:
    seed: int = 13
    gather: GatherArgs = field(default_factory=GatherArgs)
    tokenizer: TokenizerArgs = field(default_factory=TokenizerArgs)
    pretrain: PretrainArgs = field(default_factory=PretrainArgs)
    finetune: FinetuneArgs = field(default_factory=FinetuneArgs)
    abstain: AbstainArgs = field(default_factory=AbstainArgs)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


GROUPS = {"gather": GatherArgs, "tokenizer": TokenizerArgs, "pretrain": PretrainArgs,
          "finetune": FinetuneArgs, "abstain": AbstainArgs}


def default_config_path() -> Path:
    return Path(str(resources.files("klarjournal.models") / "configs" / "sense_ranker.json"))


def load_config(path: str | Path | None = None) -> TrainConfig:
    """Read the JSON config (default: the shipped one); unknown keys are an error."""
    data = json.loads(Path(path or default_config_path()).read_text(encoding="utf-8"))
    groups: dict[str, Any] = {}
    for name, cls in GROUPS.items():
        values = data.get(name, {})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown keys in config group {name!r}: {sorted(unknown)}")
        groups[name] = cls(**values)
    unknown_top = set(data) - set(GROUPS) - {"seed"}
    if unknown_top:
        raise ValueError(f"unknown config groups: {sorted(unknown_top)}")
    return TrainConfig(seed=int(data.get("seed", 13)), **groups)


def seed_everything(seed: int) -> None:
    """Seed Python and torch; call first in every training step."""
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
