"""Pretrain a small BERT encoder from scratch with masked language modelling, on CPU.

Data: ``models/work/text/pretrain.txt`` written by ``gather_text`` (Danish documentation from
Debian packages, the project's development notes, lexicon readings and plan texts). The
project's own paragraphs are repeated ``domain_repeat`` times so clinical vocabulary is seen
often. The training schedule is fitted to a wall-clock budget after the first steps are timed.
"""

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from klarjournal.models.config import PretrainArgs

log = logging.getLogger(__name__)


@dataclass
class PretrainResult:
    steps: int
    minutes: float
    train_loss: float
    eval_loss: float
    tokens_seen: int
    parameters: int


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids) - size // 4, size)]


def build_blocks(lines: list[str], domain_lines: list[str], tokenizer: object, max_length: int,
                 domain_repeat: int) -> list[list[int]]:
    """Concatenate tokenised paragraphs and cut them into ``[CLS] ... [SEP]`` blocks."""
    body = max_length - 2
    stream: list[int] = []
    encoded = tokenizer(lines + domain_lines * domain_repeat, add_special_tokens=False)["input_ids"]
    order = list(range(len(encoded)))
    random.shuffle(order)
    for index in order:
        stream.extend(encoded[index])
        stream.append(tokenizer.sep_token_id)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    return [[cls, *chunk, sep] for chunk in _chunks(stream, body)]


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pretrain(text_dir: Path, tokenizer_dir: Path, out_dir: Path, args: PretrainArgs
             ) -> PretrainResult:
    import torch
    from transformers import (AutoTokenizer, BertConfig, BertForMaskedLM,
                              DataCollatorForLanguageModeling)

    torch.set_num_threads(args.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)
    blocks = build_blocks(_read_lines(text_dir / "pretrain.txt"),
                          _read_lines(text_dir / "domain.txt"), tokenizer, args.max_length,
                          args.domain_repeat)
    random.shuffle(blocks)
    n_eval = max(32, len(blocks) // 100)
    eval_blocks, train_blocks = blocks[:n_eval], blocks[n_eval:]
    log.info("pretraining on %d blocks of %d tokens (%d held out)", len(train_blocks),
             args.max_length, n_eval)

    config = BertConfig(vocab_size=len(tokenizer), hidden_size=args.hidden_size,
                        num_hidden_layers=args.num_layers, num_attention_heads=args.num_heads,
                        intermediate_size=args.intermediate_size,
                        max_position_embeddings=args.max_length, type_vocab_size=2,
                        pad_token_id=tokenizer.pad_token_id)
    model = BertForMaskedLM(config)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=args.mlm_probability)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01,
                                  betas=(0.9, 0.98))
    schedule = {"total": args.max_steps}

    def lr_factor(step: int) -> float:
        if step < args.warmup_steps:
            return (step + 1) / args.warmup_steps
        progress = (step - args.warmup_steps) / max(1, schedule["total"] - args.warmup_steps)
        return max(0.0, 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    start = time.monotonic()
    budget = args.max_minutes * 60
    step, running, tokens = 0, 0.0, 0
    mark = [start, 0]
    model.train()
    while step < schedule["total"]:
        random.shuffle(train_blocks)
        for first in range(0, len(train_blocks) - args.batch_size + 1, args.batch_size):
            chunk = train_blocks[first:first + args.batch_size]
            batch = collator([{"input_ids": b} for b in chunk])
            loss = masked_loss(model, batch)
            apply_gradients(loss, model, optimizer, scheduler)
            step += 1
            tokens += int(batch["input_ids"].numel())
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0:
                # CPU is shared: refit the schedule to the remaining budget at the recent pace.
                now = time.monotonic()
                per_step = (now - mark[0]) / (step - mark[1])
                mark[:] = [now, step]
                fitted = step + int((budget - (now - start)) / per_step)
                schedule["total"] = max(step + 1, min(args.max_steps, fitted))
                log.info("%.2f s/step; schedule set to %d steps", per_step, schedule["total"])
            if step % 100 == 0:
                log.info("step %d loss %.3f lr %.2e %.1f min", step, running,
                         scheduler.get_last_lr()[0], (time.monotonic() - start) / 60)
            if step >= schedule["total"] or time.monotonic() - start > budget * 1.05:
                schedule["total"] = step
                break
    eval_loss = evaluate_mlm(model, collator, eval_blocks, args.batch_size)
    minutes = (time.monotonic() - start) / 60
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    result = PretrainResult(steps=step, minutes=round(minutes, 1), train_loss=round(running, 3),
                            eval_loss=round(eval_loss, 3), tokens_seen=tokens,
                            parameters=sum(p.numel() for p in model.bert.parameters()))
    (out_dir / "pretrain_result.json").write_text(json.dumps(asdict(result), indent=2))
    log.info("pretraining done: %s", result)
    return result


def apply_gradients(loss: Any, model: Any, optimizer: Any, scheduler: Any) -> None:
    """One optimiser step from ``loss``, with the gradient clipping both trainings use."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def masked_loss(model: object, batch: dict[str, object]) -> object:
    """MLM loss computed on the masked positions only (the vocabulary projection of the
    unmasked 85 % is most of the cost on CPU and contributes nothing to the loss)."""
    import torch

    hidden = model.bert(input_ids=batch["input_ids"],
                        attention_mask=batch.get("attention_mask")).last_hidden_state
    labels = batch["labels"]
    selected = labels != -100
    logits = model.cls(hidden[selected])
    return torch.nn.functional.cross_entropy(logits, labels[selected])


def evaluate_mlm(model: object, collator: object, blocks: list[list[int]], batch_size: int
                 ) -> float:
    import torch

    torch.manual_seed(0)
    model.eval()
    losses = []
    with torch.no_grad():
        for first in range(0, len(blocks), batch_size):
            batch = collator([{"input_ids": b} for b in blocks[first:first + batch_size]])
            losses.append(masked_loss(model, batch).item())
    model.train()
    return sum(losses) / max(1, len(losses))
