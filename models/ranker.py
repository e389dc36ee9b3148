"""Inference for the sense ranker: a cross-encoder that scores (context, candidate sense) pairs.

The shipped checkpoint in ``klarjournal/models/shipped/sense-ranker`` was pretrained from
scratch on Danish text from Debian packages and fine-tuned on contexts generated from the
lexicon (see its README.md). Any local Hugging Face checkpoint with a sequence-classification
head (one logit) can be loaded instead by path; torch is imported only inside ``load``.

A checkpoint may carry its forward pass exported as TorchScript (``ranker.torchscript``,
written by ``klarjournal train --steps export``). When that file was traced from the weights
beside it, ``load`` runs it with the checkpoint's ``tokenizer.json`` through the ``tokenizers``
library and never imports transformers, whose model classes pull in about 100 MB of modules
(torch._dynamo, sympy, torch.distributed) that a serving process does not need.
"""

import hashlib
import json
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from klarjournal.lexicon import Sense
from klarjournal.lexicon.schema import WHOLE_WORD_CUE_MAX_CHARS

RANKER_META = "ranker.json"
TORCHSCRIPT_FILE = "ranker.torchscript"
# Inside the TorchScript file: what it was traced from and how to feed it.
TORCHSCRIPT_INFO = "klarjournal.json"
DEFAULT_WINDOW_CHARS = 160
DEFAULT_MAX_LENGTH = 112
DEFAULT_MARGIN = 0.2
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class RankerLoadError(RuntimeError):
    """The ranker checkpoint is missing or cannot be read."""


@dataclass(frozen=True)
class RankItem:
    """An ambiguous span ``text[start:end]`` and the candidate senses to rank for it."""

    text: str
    start: int
    end: int
    candidates: list[str]
    section: str | None = None
    specialty: str | None = None


@dataclass(frozen=True)
class Decision:
    """The best candidate, its probability, the margin to the runner-up, and whether to abstain."""

    best: int
    probability: float
    margin: float
    abstain: bool


def candidate_text(sense: Sense, with_cues: bool = True) -> str:
    """The candidate string for ``sense``.

    ``expansion – lay`` alone, or (default) followed by `` | specialties | cues | sections``
    of the sense. With the lexicon evidence the ranker sees which cue words occur near the span
    and whether the note's specialty and section fit, so a sense it was never trained on is
    still scored sensibly.
    """
    text = f"{sense.expansion} – {sense.lay[0].text}"
    if not with_cues:
        return text
    specialties = [*sense.specialties]
    if sense.specialty and sense.specialty not in specialties:
        specialties.append(sense.specialty)
    fields = (specialties, sense.cues, sense.sections)
    return " | ".join([text, *(", ".join(values) for values in fields)])


def _windows(item: RankItem, window_chars: int) -> tuple[str, str]:
    left = item.text[max(0, item.start - window_chars):item.start]
    right = item.text[item.end:item.end + window_chars]
    if item.start > window_chars and " " in left:
        left = left[left.index(" ") + 1:]
    if len(item.text) - item.end > window_chars and " " in right:
        right = right[:right.rindex(" ")]
    return left, right


def context_text(item: RankItem, window_chars: int = DEFAULT_WINDOW_CHARS) -> str:
    """Note metadata plus the text around the span, with the span marked by ``[ ]``."""
    left, right = _windows(item, window_chars)
    context = " ".join(f"{left}[ {item.text[item.start:item.end]} ]{right}".split())
    return f"{item.specialty or 'ukendt'} | {item.section or 'ukendt'} | {context}"


def _split(field_text: str) -> list[str]:
    return [value.strip() for value in field_text.split(",") if value.strip()]


def evidence_text(item: RankItem, candidate: str, window_chars: int = DEFAULT_WINDOW_CHARS
                  ) -> str:
    """The candidate as the model reads it: its reading plus the lexicon evidence found here.

    For a candidate made by ``candidate_text(sense)`` (four `` | `` fields) this names the cue
    words that start a word within the window around the span (the span itself excluded), and
    whether the note's specialty and section are among the sense's. A plain
    ``expansion – lay`` candidate is returned unchanged.
    """
    parts = candidate.split(" | ")
    if len(parts) != 4:
        return candidate
    reading, specialties, cues, sections = parts[0], *(_split(p) for p in parts[1:])
    left, right = _windows(item, window_chars)
    near = f"{left} {right}".lower()
    matched = [cue for cue in cues if re.search(_cue_pattern(cue.lower()), near)]
    specialty = "ja" if item.specialty and item.specialty in specialties else "nej"
    section = "ja" if item.section and item.section in sections else "nej"
    return (f"{reading} | træf: {len(matched)} {', '.join(matched[:6]) or 'ingen'} | "
            f"speciale: {specialty} | afsnit: {section}")


def _cue_pattern(cue: str) -> str:
    """A cue found as in ``cue_matches``: a long one starts a word, a short one is a word."""
    end = r"(?!\w)" if len(cue) <= WHOLE_WORD_CUE_MAX_CHARS else ""
    return rf"(?<!\w){re.escape(cue)}{end}"


def softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def decide(probabilities: Sequence[float], margin: float) -> Decision:
    """Pick the best candidate; abstain when it beats the runner-up by less than ``margin``."""
    if not probabilities:
        raise ValueError("no candidates to decide between")
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    best = order[0]
    runner_up = probabilities[order[1]] if len(order) > 1 else 0.0
    gap = probabilities[best] - runner_up
    return Decision(best=best, probability=probabilities[best], margin=gap, abstain=gap < margin)


def _int8_linear_layers(torch: Any, model: Any) -> Any:
    """Dynamic int8 quantization of the linear layers: about 1.8x faster on this CPU with the
    same choices (200 of 200 development contexts); asked for by ``int8_inference`` in
    ``ranker.json``, so a hospital checkpoint without it runs in float32."""

    with warnings.catch_warnings():
        # torch 2.13 points to torchao for new code; the eager API still works and is all
        # that a CPU-only install has.
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                      dtype=torch.qint8)


def _silence_quantization_notice(torch: Any) -> None:
    """torch prints a deprecation notice for int8 tensors once per process, straight to stderr
    when the first one is made while a TorchScript graph loads (a CLI's output, a service's log).
    Made here first, under Python's warning filter, it is raised and silenced once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.quantize_per_tensor(torch.zeros(1), 1.0, 0, torch.qint8)


def _logits_only(torch: Any, model: Any, names: list[str]) -> Any:
    """The classifier as a module of positional input tensors (what tracing takes)."""

    class LogitsOnly(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: Any) -> Any:
            return self.model(**dict(zip(names, inputs, strict=True))).logits

    return LogitsOnly()


def _traced(torch: Any, model: Any, tokenizer: Any) -> Any | None:
    """The model as one traced TorchScript graph (a function of the tokenizer's output), or None
    when that would not be the same model.

    A traced graph skips the Python of the transformer's many small modules, which is most of
    the time of a forward pass this small (one span's 2-3 candidates). Traced on a padded batch,
    it is kept only if it gives the eager model's scores on a batch of another size and length;
    any failure keeps eager mode.
    """
    def encode(contexts: list[str], candidates: list[str]) -> Any:
        return tokenizer(contexts, candidates, padding=True, return_tensors="pt")

    probe = encode(["kardiologi | objektivt | Pt. [ MS ] kendt med hjertesygdom", "[ MS ]"],
                   ["mitralstenose", "multipel sklerose"])
    check = encode(["neurologi | vurdering | nye attakker, [ MS ] i udredning"] * 3,
                   ["mitralstenose – forsnævret hjerteklap", "multipel sklerose", "andet"])
    names = list(probe.keys())
    try:
        with warnings.catch_warnings(), torch.inference_mode():
            # torch.jit is deprecated in favour of torch.export/compile, which need a compiler
            # toolchain or run through Python again; the trace is checked before it is used.
            warnings.simplefilter("ignore")
            graph = torch.jit.trace(_logits_only(torch, model, names),
                                    tuple(probe[name] for name in names), check_trace=False)
            same = torch.allclose(graph(*(check[name] for name in names)),
                                  model(**check).logits, atol=1e-5)
    except Exception:  # noqa: BLE001 - tracing is an optimisation; eager mode always works
        return None
    if not same:
        return None
    return TracedForward(graph, names)


@dataclass(frozen=True)
class TracedForward:
    """A traced forward pass and the names of the tokenizer outputs it takes, in order."""

    graph: Any
    names: list[str]

    def __call__(self, encoded: Any) -> Any:
        return self.graph(*(encoded[name] for name in self.names))


class PairEncoder:
    """Tokenises (context, candidate) pairs with a checkpoint's ``tokenizer.json`` as the
    transformers fast tokenizer does (same ids: ``tests/models/test_ranker.py`` compares them),
    padded to the longest pair of the batch and cut longest-first."""

    def __init__(self, tokenizer_file: Path, pad_token: str, names: list[str]):
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        pad_id = self._tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise RankerLoadError(f"{tokenizer_file}: no padding token {pad_token!r}")
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self._tokenizer.no_truncation()
        self._names = names
        self._max_length: int | None = None

    def __call__(self, contexts: list[str], candidates: list[str], *, max_length: int,
                 **_: Any) -> dict[str, Any]:
        import torch

        if max_length != self._max_length:
            self._tokenizer.enable_truncation(max_length, strategy="longest_first")
            self._max_length = max_length
        encodings = self._tokenizer.encode_batch(list(zip(contexts, candidates, strict=True)))
        columns = {"input_ids": [e.ids for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings]}
        return {name: torch.tensor(columns[name], dtype=torch.long) for name in self._names}


def shipped_model_dir() -> Path:
    return Path(str(resources.files("klarjournal.models") / "shipped" / "sense-ranker"))


def weights_sha(path: Path) -> str:
    for name in WEIGHT_FILES:
        if (path / name).exists():
            return hashlib.sha256((path / name).read_bytes()).hexdigest()
    raise RankerLoadError(f"{path}: no model weights ({' or '.join(WEIGHT_FILES)})")


@dataclass
class SenseRanker:
    """Scores candidate senses of ambiguous spans; ``rank`` returns probabilities per item."""

    model: Any
    tokenizer: Any
    path: Path
    version: str
    meta: dict[str, Any] = field(default_factory=dict)
    # The traced forward pass (see _traced); None runs the model eagerly.
    traced: Any = None
    # The encoder's position limit, when there is no transformers model to ask.
    max_positions: int | None = None

    @property
    def abstain_margin(self) -> float:
        return float(self.meta.get("abstain_margin", DEFAULT_MARGIN))

    @property
    def window_chars(self) -> int:
        return int(self.meta.get("window_chars", DEFAULT_WINDOW_CHARS))

    @property
    def max_length(self) -> int:
        wanted = int(self.meta.get("max_length", DEFAULT_MAX_LENGTH))
        positions = self.max_positions
        if self.model is not None:
            positions = getattr(self.model.config, "max_position_embeddings", None)
        return min(wanted, positions) if isinstance(positions, int) else wanted

    @classmethod
    def load(cls, path: str | Path | None = None, threads: int | None = 1,
             exported: bool = True) -> "SenseRanker":
        """Load the ranker at ``path`` (None: the shipped one), offline only; its exported
        TorchScript forward pass when it has an up-to-date one and ``exported`` allows it."""
        directory = Path(path) if path is not None else shipped_model_dir()
        if not directory.is_dir():
            raise RankerLoadError(f"{directory}: sense ranker checkpoint not found; "
                                  "run `klarjournal train` or pass the path of a checkpoint")
        sha = weights_sha(directory)
        meta_path = directory / RANKER_META
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        except (OSError, json.JSONDecodeError) as exc:
            raise RankerLoadError(f"{meta_path}: unreadable ranker metadata: {exc}") from exc
        import torch

        if threads:
            torch.set_num_threads(threads)
        release = meta.get("release", "local")
        version = f"sense-ranker-{release}+{sha[:12]}"
        if exported and (directory / TORCHSCRIPT_FILE).exists():
            ranker = cls._load_exported(directory, sha, meta, version)
            if ranker is not None:
                return ranker
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        # A progress bar per load is noise in a service log and in CLI output.
        transformers_logging.disable_progress_bar()
        # Config notices ("loss_type=None ... unrecognized") are not for a clinician's terminal.
        transformers_logging.set_verbosity_error()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(directory), num_labels=1, local_files_only=True)
        except Exception as exc:  # transformers raises OSError, ValueError, SafetensorError...
            raise RankerLoadError(f"{directory}: cannot load the sense ranker checkpoint "
                                  f"({type(exc).__name__}: {exc})") from exc
        model.eval()
        if meta.get("int8_inference"):
            model = _int8_linear_layers(torch, model)
        return cls(model=model, tokenizer=tokenizer, path=directory, version=version, meta=meta,
                   traced=_traced(torch, model, tokenizer))

    @classmethod
    def _load_exported(cls, directory: Path, sha: str, meta: dict[str, Any],
                       version: str) -> "SenseRanker | None":
        """The exported forward pass, or None when it was traced from other weights or other
        settings (then the checkpoint itself is loaded)."""
        import torch

        extra = {TORCHSCRIPT_INFO: ""}
        if meta.get("int8_inference"):
            _silence_quantization_notice(torch)
        try:
            with warnings.catch_warnings():
                # Deprecated for torch.export, which needs a compiler toolchain (see _traced).
                warnings.simplefilter("ignore", DeprecationWarning)
                graph = torch.jit.load(str(directory / TORCHSCRIPT_FILE), map_location="cpu",
                                       _extra_files=extra)
            info = json.loads(extra[TORCHSCRIPT_INFO])
        except (RuntimeError, ValueError) as exc:
            raise RankerLoadError(f"{directory / TORCHSCRIPT_FILE}: unreadable exported "
                                  f"ranker ({type(exc).__name__}); delete it or run "
                                  "`klarjournal train --steps export`") from exc
        if info.get("weights_sha256") != sha or \
                info.get("int8_inference") != bool(meta.get("int8_inference")):
            return None
        encoder = PairEncoder(directory / "tokenizer.json", info["pad_token"], info["names"])
        return cls(model=None, tokenizer=encoder, path=directory, version=version, meta=meta,
                   traced=TracedForward(graph, info["names"]),
                   max_positions=info.get("max_positions"))

    def export(self) -> Path:
        """Save the traced forward pass beside the weights (``TORCHSCRIPT_FILE``)."""
        import torch

        if self.model is None or not isinstance(self.traced, TracedForward):
            raise RankerLoadError(f"{self.path}: only a checkpoint loaded with transformers "
                                  "and traced can be exported")
        info = {"weights_sha256": weights_sha(self.path),
                "int8_inference": bool(self.meta.get("int8_inference")),
                "names": self.traced.names,
                "pad_token": self.tokenizer.pad_token,
                "max_positions": getattr(self.model.config, "max_position_embeddings", None)}
        target = self.path / TORCHSCRIPT_FILE
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.jit.save(self.traced.graph, str(target),
                           _extra_files={TORCHSCRIPT_INFO: json.dumps(info)})
        return target

    def scores(self, items: Sequence[RankItem], batch_size: int = 64) -> list[list[float]]:
        """Raw logits per candidate, computed in batches of (context, candidate) pairs."""
        import torch

        pairs: list[tuple[str, str]] = []
        owners: list[int] = []
        for index, item in enumerate(items):
            if len(item.candidates) < 2:
                continue
            context = context_text(item, self.window_chars)
            for candidate in item.candidates:
                pairs.append((context, evidence_text(item, candidate, self.window_chars)))
                owners.append(index)
        logits: list[float] = []
        if self.meta.get("int8_inference"):
            # Dynamic int8 scales each batch by its own range: one item's candidates per batch
            # keep its scores independent of whatever else is ranked with it (same note, same
            # reading, whatever the batch). It costs little: a span alone is as fast here.
            bounds = [i for i in range(len(pairs)) if i == 0 or owners[i] != owners[i - 1]]
        else:
            bounds = list(range(0, len(pairs), batch_size))
        with torch.inference_mode():
            ends = [*bounds[1:], len(pairs)] if bounds else []
            for first, last in zip(bounds, ends, strict=True):
                chunk = pairs[first:last]
                encoded = self.tokenizer(
                    [p[0] for p in chunk], [p[1] for p in chunk], truncation="longest_first",
                    max_length=self.max_length, padding=True, return_tensors="pt")
                output = self.traced(encoded) if self.traced else self.model(**encoded).logits
                logits.extend(output[:, 0].tolist())
        out: list[list[float]] = [[0.0] * len(item.candidates) for item in items]
        position = dict.fromkeys(range(len(items)), 0)
        for owner, logit in zip(owners, logits, strict=True):
            out[owner][position[owner]] = logit
            position[owner] += 1
        return out

    def rank(self, items: Sequence[RankItem], batch_size: int = 64) -> list[list[float]]:
        """Probabilities over each item's candidates (softmax of the pair scores).

        An item with one candidate gets ``[1.0]``; with none, ``[]``.
        """
        raw = self.scores(items, batch_size)
        return [softmax(scores) if scores else [] for scores in raw]

    def decide(self, probabilities: Sequence[float]) -> Decision:
        return decide(probabilities, self.abstain_margin)
