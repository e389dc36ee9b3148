"""Fine-tune an encoder as a listwise sense ranker (cross-encoder, softmax over candidates).

Data: ``klarjournal.models.sense_data`` (lexicon templates and reverse substitution in the
development notes, plan texts and gathered Danish text). The base encoder is the one pretrained
by ``klarjournal.models.pretrain`` or any local Hugging Face checkpoint given by path. Model
selection and the abstention margin use the generated dev split only.
"""

import json
import logging
import math
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from klarjournal.lexicon import Lexicon
from klarjournal.models.pretrain import apply_gradients
from klarjournal.lexicon.loader import LEXICON_RELEASE
from klarjournal.models.config import AbstainArgs, FinetuneArgs
from klarjournal.models.ranker import (RANKER_META, RankItem, candidate_text, context_text,
                                       decide, evidence_text)
from klarjournal.models.sense_data import SenseExample

log = logging.getLogger(__name__)
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
MAX_ABSTAIN = 0.05


@dataclass
class DevScores:
    accuracy: float
    accuracy_no_cues: float
    # margin -> (abstention rate, accuracy on the answered items)
    by_margin: dict[str, tuple[float, float]]


@dataclass
class FinetuneResult:
    steps: int
    epochs_done: float
    minutes: float
    train_examples: int
    dev_examples: int
    dev: DevScores
    abstain_margin: float
    base_model: str


def _group_texts(example: SenseExample, lexicon: Lexicon, window: int, with_cues: bool
                 ) -> tuple[str, list[str]]:
    entry = lexicon.entry(example.entry_id)
    assert entry is not None
    item = RankItem(example.text, example.start, example.end, [], example.section,
                    example.specialty)
    candidates = [evidence_text(item, candidate_text(s, with_cues), window)
                  for s in entry.all_senses()]
    return context_text(item, window), candidates


def _batch_loss(model: Any, tokenizer: Any, groups: Sequence[tuple[str, list[str], int]],
                max_length: int) -> Any:
    import torch

    contexts = [context for context, candidates, _ in groups for _ in candidates]
    candidates = [c for _, cands, _ in groups for c in cands]
    encoded = tokenizer(contexts, candidates, truncation="longest_first", max_length=max_length,
                        padding=True, return_tensors="pt")
    logits = model(**encoded).logits[:, 0]
    losses = []
    offset = 0
    for _, cands, gold in groups:
        scores = logits[offset:offset + len(cands)]
        losses.append(-torch.log_softmax(scores, dim=0)[gold])
        offset += len(cands)
    return torch.stack(losses).mean()


def predict(model: Any, tokenizer: Any, groups: Sequence[tuple[str, list[str], int]],
            max_length: int, batch_groups: int = 32) -> list[list[float]]:
    """Probabilities per group, in order."""
    import torch

    model.eval()
    out: list[list[float]] = []
    with torch.inference_mode():
        for first in range(0, len(groups), batch_groups):
            chunk = groups[first:first + batch_groups]
            contexts = [context for context, cands, _ in chunk for _ in cands]
            candidates = [c for _, cands, _ in chunk for c in cands]
            encoded = tokenizer(contexts, candidates, truncation="longest_first",
                                max_length=max_length, padding=True, return_tensors="pt")
            logits = model(**encoded).logits[:, 0]
            offset = 0
            for _, cands, _ in chunk:
                out.append(torch.softmax(logits[offset:offset + len(cands)], 0).tolist())
                offset += len(cands)
    model.train()
    return out


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def score_dev(model: Any, tokenizer: Any, dev: Sequence[SenseExample], lexicon: Lexicon,
              args: FinetuneArgs) -> DevScores:
    with_cues = [(*_group_texts(e, lexicon, args.window_chars, True), e.gold) for e in dev]
    no_cues = [(*_group_texts(e, lexicon, args.window_chars, False), e.gold) for e in dev]
    probs = predict(model, tokenizer, with_cues, args.max_length)
    probs_plain = predict(model, tokenizer, no_cues, args.max_length)
    golds = [e.gold for e in dev]
    correct = [_argmax(p) == g for p, g in zip(probs, golds, strict=True)]
    correct_plain = [_argmax(p) == g for p, g in zip(probs_plain, golds, strict=True)]
    by_margin: dict[str, tuple[float, float]] = {}
    for margin in MARGINS:
        decisions = [decide(p, margin) for p in probs]
        answered = [ok for d, ok in zip(decisions, correct, strict=True) if not d.abstain]
        by_margin[f"{margin:.2f}"] = (round(1 - len(answered) / len(dev), 4),
                                      round(sum(answered) / max(1, len(answered)), 4))
    return DevScores(accuracy=round(sum(correct) / len(dev), 4),
                     accuracy_no_cues=round(sum(correct_plain) / len(dev), 4),
                     by_margin=by_margin)


def choose_margin(scores: DevScores, fallback: AbstainArgs) -> float:
    """The largest margin that abstains on at most 5 % of the dev contexts."""
    allowed = [float(m) for m, (rate, _) in scores.by_margin.items() if rate <= MAX_ABSTAIN]
    return max(allowed) if allowed else fallback.margin


def finetune(base: Path, out_dir: Path, lexicon: Lexicon, train: list[SenseExample],
             dev: list[SenseExample], args: FinetuneArgs, abstain: AbstainArgs, seed: int
             ) -> FinetuneResult:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(args.threads)
    rng = random.Random(seed)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1,
                                                               local_files_only=True)
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions < args.max_length:
        args = replace(args, max_length=positions)
    steps_per_epoch = math.ceil(len(train) / args.groups_per_batch)
    total = steps_per_epoch * args.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    warmup = max(1, args.warmup_steps)
    schedule = {"total": total}

    def lr_factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, 1 - (step - warmup) / max(1, schedule["total"] - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    start = time.monotonic()
    budget = args.max_minutes * 60
    mark = [start, 0]
    step, running = 0, 0.0
    best: tuple[float, dict[str, Any] | None, DevScores | None] = (-1.0, None, None)
    model.train()
    for epoch in range(args.epochs):
        order = list(train)
        rng.shuffle(order)
        for first in range(0, len(order), args.groups_per_batch):
            groups = []
            for example in order[first:first + args.groups_per_batch]:
                context, candidates = _group_texts(example, lexicon, args.window_chars,
                                                   rng.random() >= args.cue_dropout)
                groups.append((context, candidates, example.gold))
            loss = _batch_loss(model, tokenizer, groups, args.max_length)
            apply_gradients(loss, model, optimizer, scheduler)
            step += 1
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0:
                now = time.monotonic()
                per_step = (now - mark[0]) / (step - mark[1])
                mark[:] = [now, step]
                # Leave a tenth of the budget for the dev evaluations.
                fitted = step + int((budget * 0.9 - (now - start)) / per_step)
                schedule["total"] = max(step + 1, min(total, fitted))
            if step % 200 == 0:
                log.info("step %d/%d loss %.3f %.1f min", step, schedule["total"], running,
                         (time.monotonic() - start) / 60)
            if step >= schedule["total"]:
                break
        scores = score_dev(model, tokenizer, dev, lexicon, args)
        log.info("epoch %d dev %s", epoch + 1, scores)
        if scores.accuracy > best[0]:
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            best = (scores.accuracy, state, scores)
        if step >= schedule["total"]:
            break
    _, state, dev_scores = best
    assert state is not None and dev_scores is not None
    model.load_state_dict(state)
    margin = choose_margin(dev_scores, abstain)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    result = FinetuneResult(steps=step, epochs_done=round(step / steps_per_epoch, 2),
                            minutes=round((time.monotonic() - start) / 60, 1),
                            train_examples=len(train), dev_examples=len(dev), dev=dev_scores,
                            abstain_margin=margin, base_model=str(base))
    meta = {
        "format": "klarjournal-sense-ranker/1",
        "release": LEXICON_RELEASE,
        "lexicon_version": lexicon.version,
        "window_chars": args.window_chars,
        "max_length": args.max_length,
        "abstain_margin": margin,
        "int8_inference": args.int8_inference,
        "candidate_format": "expansion – lay [| specialties | cues | sections]",
        "parameters": sum(p.numel() for p in model.parameters()),
        "finetune": asdict(result),
    }
    (out_dir / RANKER_META).write_text(json.dumps(meta, ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    return result
