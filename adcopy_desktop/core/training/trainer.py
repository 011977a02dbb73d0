"""The training child: fine-tune a model folder's weights on examples, merge, export to ONNX.

Runs only as ``python -m adcopy_desktop.core.training.trainer`` (torch, peft and transformers are
imported here, never in the app's process). The parent (``core/training/pipeline.py``) writes the
examples and settings to a JSON file and reads JSON lines from stdout:

    {"event": "progress", "stage": "train", "step": 3, "total": 40, "loss": 2.1, "heldout_loss": 2.3,
     "eta_s": 81.0, "message": "...", "fraction": 0.07}
    {"event": "metrics", ...}        held-out loss before training, after each evaluation
    {"event": "done", "metadata": {...}} / {"event": "error", "message": "..."} / {"event": "cancelled"}

Supervised stage: the loss is on the copy tokens (and the end-of-turn token) only; the prompt is
masked. Preference stage (DPO) on accepted-vs-rejected pairs when asked for; its reference is the
supervised model, whose log-probabilities are computed once before the stage. The parent stops a
run by creating the cancel file, checked before every optimiser step.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adcopy_desktop.core.activity import someone_generating
from adcopy_desktop.core.model_store.builder import (
    RUNTIME_FILES,
    BuildFailure,
    check_export,
    check_prompt_ids,
    emit,
    export_onnx,
    fix_special_tokens,
    load_pretrained,
    onnx_prompt_logits,
    quantize_weights,
)

IGNORE = -100
EXIT_CANCELLED = 4
CHECKPOINT_NAME = "checkpoint.pt"
CHECKPOINT_EVERY_S = 120.0  # a kill loses at most this much training
CHECKPOINT_EVERY_ENV = "ADCOPY_CHECKPOINT_EVERY_S"  # tests checkpoint after every step
PAUSE_POLL_S = 0.5
HEAD_CHUNK_TOKENS = 128  # copy tokens per output-layer chunk (see Run.head_logps)
HELDOUT_PACK_ROWS = 8  # held-out examples per packed forward pass
CURVE_POINTS = 200  # [step, loss] pairs of the training-loss curve kept in the version's manifest


class TrainingCancelled(Exception):
    pass


class Run:
    """One training run: tokenised data, the model, the cancel check."""

    def __init__(self, base: Path, data: dict[str, Any], out: Path, cancel_file: Path | None,
                 checkpoint_dir: Path | None = None, activity_dir: Path | None = None, fingerprint: str = ""):
        import torch

        self.torch = torch
        self.config: dict[str, Any] = data["config"]
        self.data = data
        self.base = base
        self.out = out
        self.cancel_file = cancel_file
        self.precision = data.get("precision", "fp32")
        wanted = self.config.get("device", "auto")
        self.device = "cuda" if wanted in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
        self.bf16 = _use_bf16(torch, self.device, self.config.get("train_precision", "auto"))
        self.weights_dtype = torch.bfloat16 if self.bf16 else torch.float32
        torch.manual_seed(int(self.config["seed"]))
        self.rng = random.Random(int(self.config["seed"]))
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}
        self.parent_pid = os.getppid()
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every_s = float(os.environ.get(CHECKPOINT_EVERY_ENV, CHECKPOINT_EVERY_S))
        self.activity_dir = activity_dir
        self.fingerprint = fingerprint
        self.paused_seconds = 0.0

    def check_cancel(self) -> None:
        """Stop when the parent asks (cancel file) or is gone (an orphan would train for nobody);
        wait while the user generates copy (``core/activity.py``)."""
        if self.cancel_file is not None and self.cancel_file.exists():
            raise TrainingCancelled()
        if os.getppid() != self.parent_pid:
            raise TrainingCancelled()
        if self.activity_dir is not None and someone_generating(self.activity_dir):
            started = time.monotonic()
            self.progress("pause", "Paused while you generate copy", None)
            while someone_generating(self.activity_dir):
                time.sleep(PAUSE_POLL_S)
                if (self.cancel_file is not None and self.cancel_file.exists()) or os.getppid() != self.parent_pid:
                    raise TrainingCancelled()
            self.paused_seconds += time.monotonic() - started
            self.progress("pause", "Generation finished; training goes on", None)

    def progress(self, stage: str, message: str, fraction: float | None = None, **fields: Any) -> None:
        emit("progress", stage=stage, message=message, fraction=fraction, **fields)

    # -- data -----------------------------------------------------------------------------------
    def load(self) -> None:
        from adcopy_desktop.core.runtime.tokenizer import ChatTokenizer

        self.progress("load", "Loading the active model's weights", 0.01)
        hf_dir = self.base / "hf"
        self.tokenizer, self.model = self.load_base(self.weights_dtype)
        # The runtime's own tokenizer renders and encodes prompts, so training sees the exact ids
        # that generation will feed.
        self.chat = ChatTokenizer.from_folder(self.base / "onnx" if (self.base / "onnx").is_dir() else hf_dir)
        eos = self.chat.eos_token_id if self.chat.eos_token_id is not None else self.tokenizer.eos_token_id
        if eos is None:
            raise BuildFailure("The model has no end-of-turn token, so it cannot learn where copy ends.")
        self.eos_id = int(eos)
        pad = self.tokenizer.pad_token_id
        self.pad_id = int(pad) if pad is not None else self.eos_id
        self.model.to(self.device)
        if self.config.get("gradient_checkpointing", True) and getattr(self.model, "supports_gradient_checkpointing",
                                                                         False):
            # Activations of every layer for a whole batch are most of training's memory; keeping only
            # each layer's input and recomputing the rest in backward costs about a third more compute.
            self.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            self.timings["gradient_checkpointing"] = True

    def load_weights(self, dtype):
        """The float weights: the model's hf/ folder, or a catalog model's GGUF from its packages."""
        gguf = self.data.get("weights_gguf")
        if not gguf:
            return load_pretrained("hf", self.base / "hf", dtype=dtype)
        tokenizer, model = load_pretrained("gguf", Path(gguf), dtype=dtype)
        fix_special_tokens(tokenizer, model)  # as the build did
        return tokenizer, model

    def load_base(self, dtype):
        """The base weights, with the parent version's adapter added when training from one."""
        torch = self.torch
        parent_adapter = self.data.get("parent_adapter")
        if not parent_adapter:
            return self.load_weights(dtype)
        from adcopy_desktop.core.runtime.lora import load_adapter

        tokenizer, model = self.load_weights(torch.float32)  # float32: small deltas must not round away
        adapter = load_adapter(Path(parent_adapter))
        with torch.no_grad():
            for module_name in adapter.updates:
                weight = model.get_submodule(module_name).weight
                weight += torch.from_numpy(adapter.delta(module_name)).to(weight.dtype)
        return tokenizer, model.to(dtype)

    def encode(self, messages: list[dict[str, str]], completion: str) -> tuple[list[int], list[int]]:
        max_length = int(self.config["max_length"])
        prompt = self.chat.encode(self.chat.apply_chat_template(messages, add_generation_prompt=True))
        answer = self.chat.encode(completion) + [self.eos_id]
        answer = answer[: max_length - min(len(prompt), max_length // 2)]
        prompt = prompt[-(max_length - len(answer)):]
        return prompt + answer, [IGNORE] * len(prompt) + answer

    def encoded(self, key: str) -> list[tuple[list[int], list[int]]]:
        return [self.encode(item["messages"], item["completion"]) for item in self.data.get(key, [])]

    def collate(self, rows: list[tuple[list[int], list[int]]]):
        torch = self.torch
        width = max(len(ids) for ids, _ in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for row, (token_ids, token_labels) in enumerate(rows):
            ids[row, : len(token_ids)] = torch.tensor(token_ids)
            labels[row, : len(token_labels)] = torch.tensor(token_labels)
            mask[row, : len(token_ids)] = 1
        return ids.to(self.device), mask.to(self.device), labels.to(self.device)

    # -- losses ---------------------------------------------------------------------------------
    def causal_lm(self):
        """The transformers model under any peft wrapper (LoRA layers are injected in place)."""
        model = self.model
        if hasattr(model, "get_base_model"):
            model = model.get_base_model()
        return model

    def token_logps(self, rows: list[tuple[list[int], list[int]]]):
        """Per-row sum of log-probabilities of the labelled tokens, and their count.

        Packed when the model allows it (``pack_batches``): the rows go into one sequence with no
        padding, and the prompt start they share (system prompt, instructions) is read once for
        all of them; a mask lets each row see only the shared start and itself, and positions
        restart where each row's own part begins, so every token gets exactly the log-probability
        it gets alone. With prompts of ~330 tokens of which ~260 are shared and ~80 copy tokens,
        a batch of 4 reads ~850 tokens instead of ~1,650."""
        if len(rows) > 1 and self.config.get("pack_batches", True) and self.packable():
            layout = pack_rows(rows)
            if self.packing_pays(rows, len(layout.ids)):
                return self.packed_logps(layout, len(rows))
        return self.padded_logps(*self.collate(rows))

    def packing_pays(self, rows: list[tuple[list[int], list[int]]], packed: int) -> bool:
        """Whether one packed sequence costs less than the padded batch. Both attend over their
        whole width (the masks keep any kernel from skipping blocks), so a packed sequence pays
        for its length squared: rows that share little and are of one length are cheaper padded."""
        config = self.causal_lm().config
        hidden = int(getattr(config, "hidden_size", 0) or 0)
        inner = int(getattr(config, "intermediate_size", 0) or 4 * hidden)
        if not hidden:
            return True
        per_pair = 4 * hidden / (2 * (4 * hidden * hidden + 3 * hidden * inner))  # attention vs projections
        width = max(len(ids) for ids, _ in rows)
        return packed + per_pair * packed ** 2 < len(rows) * (width + per_pair * width ** 2)

    def packable(self) -> bool:
        """Decoders whose attention takes a custom 4D mask and position ids (transformers' sdpa and
        eager paths; flash-attention kernels ignore such a mask)."""
        return getattr(self.causal_lm().config, "_attn_implementation", None) in ("sdpa", "eager")

    def packed_logps(self, layout: "PackedRows", rows: int):
        torch = self.torch
        causal = self.causal_lm()
        length = len(layout.ids)
        segment = torch.tensor(layout.segments)
        order = torch.arange(length)
        allowed = (order[None, :] <= order[:, None]) & ((segment[None, :] < 0) | (segment[None, :] == segment[:, None]))
        if causal.config._attn_implementation == "eager":  # eager adds the mask to the scores
            dtype = self.weights_dtype
            mask = torch.zeros((length, length), dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        else:
            mask = allowed
        inputs = {"input_ids": torch.tensor([layout.ids], device=self.device),
                  "position_ids": torch.tensor([layout.positions], device=self.device),
                  "attention_mask": mask[None, None].to(self.device)}
        sources = torch.tensor(layout.sources, dtype=torch.long, device=self.device)
        targets = torch.tensor(layout.targets, dtype=torch.long, device=self.device)
        owners = torch.tensor(layout.owners, dtype=torch.long, device=self.device)
        picked = self.positions_logps(causal, inputs, sources, targets)
        sums = torch.zeros(rows, dtype=picked.dtype, device=picked.device).index_add(0, owners, picked)
        counts = torch.bincount(owners, minlength=rows)
        return sums, counts

    def padded_logps(self, ids, mask, labels):
        """``token_logps`` on a right-padded batch (one row per example)."""
        torch = self.torch
        targets = labels[:, 1:]
        keep = targets != IGNORE
        owners = keep.nonzero(as_tuple=True)[0]
        width = ids.shape[1]
        flat = (torch.arange(width - 1, device=ids.device)[None, :] + width * torch.arange(
            ids.shape[0], device=ids.device)[:, None])[keep]
        picked = self.positions_logps(self.causal_lm(), {"input_ids": ids, "attention_mask": mask}, flat,
                                      targets[keep])
        sums = torch.zeros(ids.shape[0], dtype=picked.dtype, device=picked.device).index_add(0, owners, picked)
        return sums, keep.sum(-1)

    def positions_logps(self, causal, inputs: dict[str, Any], sources, targets):
        """Log-probability of ``targets`` after the flattened positions ``sources`` of a forward pass.

        The output layer runs on those positions only: prompts are most of every sequence, and the
        vocabulary projection of every prompt position would be wasted work."""
        torch = self.torch
        plain_head = (hasattr(causal, "model") and hasattr(causal, "lm_head")
                      and not getattr(causal.config, "final_logit_softcapping", None))
        with torch.autocast(device_type=self.device, dtype=torch.bfloat16, enabled=self.bf16):
            if plain_head:
                hidden = causal.model(**inputs).last_hidden_state
            else:
                logits = self.model(**inputs).logits
        if plain_head:
            return self.head_logps(causal.lm_head, hidden.reshape(-1, hidden.shape[-1])[sources], targets)
        logits = logits.reshape(-1, logits.shape[-1])[sources]
        return -torch.nn.functional.cross_entropy(logits.float(), targets, reduction="none")

    def head_logps(self, head, hidden, targets):
        """Log-probability of each target under the output layer, in chunks of copy tokens.

        Over a 152k vocabulary the logits of one batch's copy (with their float32 copy, the softmax
        and the gradient) take a gigabyte or more. A frozen output layer (LoRA, top layers) goes
        through ``HeadLogProbs``, which works out each chunk's gradient while the chunk's logits are
        there and keeps only that; a trained one through checkpointed chunks, recomputed in backward."""
        torch = self.torch
        frozen = not head.weight.requires_grad and getattr(head, "bias", None) is None
        if frozen:
            wants_grad = torch.is_grad_enabled() and hidden.requires_grad
            return head_logprobs_function(torch).apply(hidden, head.weight, targets, HEAD_CHUNK_TOKENS, wants_grad)
        from torch.utils.checkpoint import checkpoint

        def chunk_logps(rows, wanted):
            with torch.autocast(device_type=self.device, dtype=torch.bfloat16, enabled=self.bf16):
                logits = head(rows)
            return -torch.nn.functional.cross_entropy(logits.float(), wanted, reduction="none")

        parts = []
        for start in range(0, hidden.shape[0], HEAD_CHUNK_TOKENS):
            rows, wanted = hidden[start:start + HEAD_CHUNK_TOKENS], targets[start:start + HEAD_CHUNK_TOKENS]
            if torch.is_grad_enabled() and rows.requires_grad:
                parts.append(checkpoint(chunk_logps, rows, wanted, use_reentrant=False))
            else:
                parts.append(chunk_logps(rows, wanted))
        return torch.cat(parts) if parts else hidden.new_zeros(0, dtype=torch.float32)

    def heldout_loss(self, rows: list[tuple[list[int], list[int]]]) -> float | None:
        """Mean negative log-likelihood per copy token over the held-out examples."""
        if not rows:
            return None
        torch = self.torch
        self.model.eval()
        total, count = 0.0, 0
        batch = max(1, int(self.config["batch_size"]))
        if self.config.get("pack_batches", True) and self.packable():
            batch = max(batch, HELDOUT_PACK_ROWS)  # no gradients: more rows share one read of the prompt start
        rows = sorted(rows, key=lambda row: len(row[0]))  # the mean is order-free; sorted pads least
        with torch.no_grad():
            for start in range(0, len(rows), batch):
                self.check_cancel()
                logps, tokens = self.token_logps(rows[start:start + batch])
                total -= float(logps.sum())
                count += int(tokens.sum())
        return total / max(1, count)

    # -- what to train --------------------------------------------------------------------------
    def prepare_parameters(self) -> int:
        method = self.config["method"]
        model = self.model
        if method == "lora":
            from peft import LoraConfig, get_peft_model

            lora = LoraConfig(
                r=int(self.config["lora_rank"]), lora_alpha=int(self.config["lora_alpha"]),
                lora_dropout=float(self.config["lora_dropout"]), target_modules="all-linear",
                task_type="CAUSAL_LM",
            )
            self.model = get_peft_model(model, lora)
        elif method == "top_layers":
            layers = _decoder_layers(model)
            keep = int(self.config["top_layers"])
            for parameter in model.parameters():
                parameter.requires_grad = False
            for layer in list(layers)[-keep:]:
                for parameter in layer.parameters():
                    parameter.requires_grad = True
            norm = getattr(getattr(model, "model", model), "norm", None)
            if norm is not None:
                for parameter in norm.parameters():
                    parameter.requires_grad = True
        else:
            for parameter in model.parameters():
                parameter.requires_grad = True
        for parameter in self.model.parameters():
            if parameter.requires_grad and parameter.dtype != self.torch.float32:
                # trained values stay float32: a bfloat16 weight would round most updates away
                parameter.data = parameter.data.float()
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def trainable_state(self) -> dict[str, Any]:
        return {name: p.detach().clone() for name, p in self.model.named_parameters() if p.requires_grad}

    def restore(self, state: dict[str, Any]) -> None:
        with self.torch.no_grad():
            for name, parameter in self.model.named_parameters():
                if name in state:
                    parameter.copy_(state[name])

    def optimizer(self, learning_rate: float):
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        return self.torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.0)

    # -- the supervised stage -------------------------------------------------------------------
    def supervised(self, train, heldout, heldout_before: float | None, resume: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        torch = self.torch
        config = self.config
        batch = int(config["batch_size"])
        steps_per_epoch = max(1, math.ceil(len(train) / batch))
        total = steps_per_epoch * int(config["epochs"])
        if config.get("max_steps"):
            total = min(total, int(config["max_steps"]))
        evaluate_every = max(1, math.ceil(steps_per_epoch / int(config["evaluations_per_epoch"])))
        optimizer = self.optimizer(float(config["learning_rate"]))
        warmup = min(10, total // 10)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.1, 1.0 - (step - warmup) / max(1, total - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        patience = int(config["early_stopping_patience"])
        state: dict[str, Any] = {
            "step": 0, "losses": [], "best_loss": math.inf, "best_state": None, "best_step": 0, "waited": 0,
            "last_heldout": heldout_before, "stopped_early": False, "epoch_batches": None, "position": 0,
            "train_seconds": 0.0, "heldout_curve": [],
        }
        if resume is not None:
            state.update(resume["supervised"])
            state.setdefault("heldout_curve", [])  # a checkpoint written before curves were kept
            self.restore(resume["trainable"])
            optimizer.load_state_dict(resume["optimizer"])
            scheduler.load_state_dict(resume["scheduler"])
            self.rng.setstate(resume["python_rng"])
            torch.set_rng_state(resume["torch_rng"])
            self.progress("train", f"Resuming from step {state['step']}/{total} (checkpoint of an interrupted run)",
                          0.05 + 0.7 * state["step"] / total)
        lengths = [len(ids) for ids, _ in train]
        group = bool(config.get("group_by_length", True))
        started = time.monotonic() - state["train_seconds"]
        resumed_at, resumed_seconds = state["step"], state["train_seconds"]
        last_checkpoint = time.monotonic()

        def checkpoint(done: bool = False) -> None:
            state["train_seconds"] = time.monotonic() - started - self.paused_seconds
            self.save_checkpoint({
                "supervised": dict(state), "supervised_done": done, "trainable": self.trainable_state(),
                "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "python_rng": self.rng.getstate(), "torch_rng": torch.get_rng_state(),
                "heldout_before": heldout_before,
            })

        heap = HeapTrimmer()
        while state["step"] < total and not state["stopped_early"]:
            if state["epoch_batches"] is None or state["position"] >= len(state["epoch_batches"]):
                state["epoch_batches"], state["position"] = batches(lengths, batch, self.rng, group_by_length=group), 0
            indices = state["epoch_batches"][state["position"]]
            self.check_cancel()
            self.model.train()
            rows = [train[i] for i in indices]
            logps, tokens = self.token_logps(rows)
            loss = -logps.sum() / tokens.sum().clamp(min=1)
            if not torch.isfinite(loss):
                raise BuildFailure("The training loss became infinite or NaN; lower the learning rate.")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            step_loss = float(loss)
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            del logps, loss
            heap.step()
            state["position"] += 1
            state["step"] += 1
            step = state["step"]
            state["losses"].append(step_loss)
            evaluated = step % evaluate_every == 0 or step == total
            if evaluated and heldout:
                state["last_heldout"] = self.heldout_loss(heldout)
                state["heldout_curve"].append([step, round(float(state["last_heldout"]), 5)])
                emit("metrics", stage="train", step=step, heldout_loss=state["last_heldout"], loss=state["losses"][-1])
                if state["last_heldout"] < state["best_loss"] - 1e-6:
                    state.update(best_loss=state["last_heldout"], best_state=self.trainable_state(), best_step=step,
                                 waited=0)
                else:
                    state["waited"] += 1
                    if patience and state["waited"] >= patience:
                        state["stopped_early"] = True
            # the ETA counts only this run's own steps and time, and leaves out pauses for generation
            elapsed = time.monotonic() - started - self.paused_seconds - resumed_seconds
            eta = elapsed / max(1, step - resumed_at) * (total - step)
            last_heldout = state["last_heldout"]
            self.progress(
                "train",
                f"step {step}/{total}  loss {state['losses'][-1]:.3f}"
                + (f"  held-out {last_heldout:.3f}" if last_heldout is not None else "")
                + f"  ETA {_duration(eta)}",
                0.05 + 0.7 * step / total,
                step=step, total=total, loss=state["losses"][-1], heldout_loss=last_heldout, eta_s=round(eta, 1),
            )
            if self.checkpoint_dir is not None and time.monotonic() - last_checkpoint >= self.checkpoint_every_s:
                checkpoint()
                last_checkpoint = time.monotonic()
        step, best_state = state["step"], state["best_state"]
        if best_state is not None and state["best_step"] != step:
            self.restore(best_state)
        if self.checkpoint_dir is not None:
            checkpoint(done=True)
        self.timings["heap_trims"] = heap.trims
        self.timings["train_seconds"] = round(time.monotonic() - started - self.paused_seconds, 1)
        losses, best_loss = state["losses"], state["best_loss"]
        return {
            "steps": step, "planned_steps": total, "stopped_early": state["stopped_early"],
            "best_step": state["best_step"] or step,
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "best_heldout_loss": None if best_loss == math.inf else best_loss,
            "resumed_from_step": resumed_at or None,
            **_curves(state),
        }

    @staticmethod
    def supervised_summary(state: dict[str, Any]) -> dict[str, Any]:
        losses, best_loss = state["losses"], state["best_loss"]
        return {
            "steps": state["step"], "planned_steps": state["step"], "stopped_early": state["stopped_early"],
            "best_step": state["best_step"] or state["step"],
            "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
            "best_heldout_loss": None if best_loss == math.inf else best_loss, "resumed_from_step": state["step"],
            **_curves(state),
        }

    # -- checkpoints (resume after a crash or kill) ------------------------------------------
    def load_checkpoint(self) -> dict[str, Any] | None:
        """The interrupted run's state, if the checkpoint folder holds one for this very data."""
        if self.checkpoint_dir is None:
            return None
        path = self.checkpoint_dir / CHECKPOINT_NAME
        if not path.is_file():
            return None
        try:
            state = self.torch.load(path, map_location="cpu", weights_only=False)
        except Exception as exc:  # a checkpoint cut short by the kill itself: start over
            emit("progress", stage="load", message=f"Ignoring an unreadable checkpoint ({exc}); starting over",
                 fraction=None)
            return None
        if state.get("fingerprint") != self.fingerprint:
            return None
        return state

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        partial = self.checkpoint_dir / (CHECKPOINT_NAME + ".partial")
        self.torch.save({**state, "fingerprint": self.fingerprint}, partial)
        os.replace(partial, self.checkpoint_dir / CHECKPOINT_NAME)  # a kill mid-write keeps the last one

    # -- the preference stage (DPO) -------------------------------------------------------------
    def pair_rows(self, key: str):
        rows = []
        for pair in self.data.get(key, []):
            rows.append((self.encode(pair["messages"], pair["chosen"]), self.encode(pair["messages"], pair["rejected"])))
        return rows

    def pair_logps(self, pairs):
        logps, _ = self.token_logps([c for c, _ in pairs] + [r for _, r in pairs])
        return logps[: len(pairs)], logps[len(pairs):]

    def reference_logps(self, pairs) -> list[tuple[float, float]]:
        self.model.eval()
        values = []
        with self.torch.no_grad():
            for start in range(0, len(pairs), int(self.config["batch_size"])):
                self.check_cancel()
                chosen, rejected = self.pair_logps(pairs[start:start + int(self.config["batch_size"])])
                values += list(zip(chosen.tolist(), rejected.tolist()))
        return values

    def preference_accuracy(self, pairs, reference) -> float | None:
        """Share of pairs where the model prefers the accepted copy more than the reference does."""
        if not pairs:
            return None
        current = self.reference_logps(pairs)
        wins = sum((c - r) > (rc - rr) for (c, r), (rc, rr) in zip(current, reference))
        return wins / len(pairs)

    def preference(self, pairs, heldout_pairs) -> dict[str, Any]:
        torch = self.torch
        config = self.config
        beta = float(config["dpo_beta"])
        batch = int(config["batch_size"])
        started = time.monotonic()
        self.progress("preference", f"Preference stage (DPO) on {len(pairs)} accepted-vs-rejected pairs", 0.76)
        reference = self.reference_logps(pairs)
        heldout_reference = self.reference_logps(heldout_pairs) if heldout_pairs else []
        optimizer = self.optimizer(float(config["dpo_learning_rate"]))
        total = max(1, math.ceil(len(pairs) / batch)) * int(config["dpo_epochs"])
        step, losses, order = 0, [], list(range(len(pairs)))
        for _ in range(int(config["dpo_epochs"])):
            self.rng.shuffle(order)
            for start in range(0, len(order), batch):
                self.check_cancel()
                self.model.train()
                chunk = order[start:start + batch]
                chosen, rejected = self.pair_logps([pairs[i] for i in chunk])
                ref = torch.tensor([reference[i] for i in chunk], device=chosen.device)
                advantage = (chosen - ref[:, 0]) - (rejected - ref[:, 1])
                loss = -torch.nn.functional.logsigmoid(beta * advantage).mean()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
                optimizer.step()
                step += 1
                losses.append(float(loss))
                elapsed = time.monotonic() - started
                self.progress("preference", f"DPO step {step}/{total}  loss {losses[-1]:.3f}",
                              0.76 + 0.04 * step / total, step=step, total=total, loss=losses[-1],
                              eta_s=round(elapsed / step * (total - step), 1))
        result = {
            "pairs": len(pairs), "steps": step, "beta": beta, "first_loss": losses[0] if losses else None,
            "last_loss": losses[-1] if losses else None,
            "train_preference_accuracy": self.preference_accuracy(pairs, reference),
            "heldout_preference_accuracy": self.preference_accuracy(heldout_pairs, heldout_reference),
            "seconds": round(time.monotonic() - started, 1),
        }
        emit("metrics", stage="preference", **result)
        return result

    # -- the whole run --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        config = self.config
        self.load()
        train, heldout = self.encoded("train"), self.encoded("heldout")
        if not train:
            raise BuildFailure("There is nothing to train on.")
        trainable = self.prepare_parameters()
        resume = self.load_checkpoint()
        if resume is not None:
            heldout_before = resume["heldout_before"]
        else:
            self.progress("evaluate", f"Held-out loss of the current model on {len(heldout)} examples", 0.03)
            heldout_before = self.heldout_loss(heldout)
        emit("metrics", stage="before", heldout_loss=heldout_before)
        self.progress("train", f"Training {trainable:,} parameters ({config['method']}) on {len(train)} examples "
                      f"on {self.device}", 0.05)
        if resume is not None and resume.get("supervised_done"):
            self.restore(resume["trainable"])
            supervised = self.supervised_summary(resume["supervised"])
        else:
            supervised = self.supervised(train, heldout, heldout_before, resume)
        pairs = self.pair_rows("pairs")
        mode = config["preference"]
        preference = None
        if pairs and (mode == "on" or (mode == "auto" and len(pairs) >= int(config["min_pairs"]))):
            preference = self.preference(pairs, self.pair_rows("heldout_pairs"))
        if preference is None and supervised["best_heldout_loss"] is not None:
            heldout_after = supervised["best_heldout_loss"]  # the weights it was measured on are the ones kept
        else:
            self.progress("evaluate", "Held-out loss of the new model", 0.8)
            heldout_after = self.heldout_loss(heldout)
        emit("metrics", stage="after", heldout_loss=heldout_after)
        self.check_cancel()
        check = self.export()
        return {
            "heldout_loss_old": heldout_before,
            "heldout_loss_new": heldout_after,
            "export_check": check,
            "training": {
                "method": config["method"], "device": self.device, "trainable_parameters": int(trainable),
                "examples": len(train), "held_out": len(heldout), "pairs": len(pairs),
                "supervised": supervised, "preference": preference,
                "hyper_parameters": {k: v for k, v in config.items() if k not in ("style",)},
                "peak_rss_mb": _peak_rss_mb(), "seconds": round(time.monotonic() - self.started, 1),
                "precision": "bf16" if self.bf16 else "fp32", "threads": self.torch.get_num_threads(),
                **self.timings,
            },
        }

    def export_adapter(self) -> dict[str, Any]:
        """Save the LoRA update (with the parent version's, if it was one) as ``adapter/`` and check
        that the base graph with the adapter applied gives the trained model's next tokens."""
        from adcopy_desktop.core.runtime.lora import adapted_initializers, combine, load_adapter, save_adapter

        torch = self.torch
        self.progress("export", "Saving the LoRA adapter", 0.84)
        started = time.monotonic()
        updates = lora_updates(self.model)
        parent_adapter = self.data.get("parent_adapter")
        if parent_adapter:
            updates = combine(load_adapter(Path(parent_adapter)).updates, updates)
        base_onnx = Path(self.data.get("base_onnx") or self.base / "onnx")
        save_adapter(self.out, updates, base=self.data.get("base_id", ""), trained_rank=int(self.config["lora_rank"]))
        self.check_cancel()
        self.progress("export", "Checking the base model with the adapter against the trained weights", 0.9)
        model = self.float32_model().merge_and_unload().to("cpu").eval()
        ids = check_prompt_ids(self.tokenizer)
        with torch.no_grad():
            reference = model(torch.tensor([ids])).logits[0].float().numpy()
        self.model = model = None
        release_freed_memory()
        overrides = adapted_initializers(base_onnx / "model.onnx", load_adapter(self.out / "adapter"))
        logits = onnx_prompt_logits(base_onnx / "model.onnx", ids, overrides)
        agreement = float((logits.argmax(-1) == reference.argmax(-1)).mean())
        if agreement < 0.9 or logits[-1].argmax() != reference[-1].argmax():
            raise BuildFailure(f"The base model with the adapter does not match the trained weights (next-token "
                               f"agreement {agreement:.2f}); the version was not saved.")
        self.timings["export_seconds"] = round(time.monotonic() - started, 1)
        size = sum(path.stat().st_size for path in (self.out / "adapter").iterdir())
        return {"next_token_agreement": round(agreement, 4), "max_logit_diff": round(float(abs(logits - reference).max()), 4),
                "adapter_bytes": size, "adapter_rank": max((a.shape[0] for a, _ in updates.values()), default=0)}

    def float32_model(self):
        """The trained model on the original float32 weights.

        Trained in bfloat16, the frozen weights were rounded; merging there would both keep that
        rounding and drop most of the small LoRA update, so the trained values move onto a fresh
        float32 copy of the base instead."""
        torch = self.torch
        if not self.bf16:
            return self.model
        self.progress("merge", "Reloading the float32 weights to merge onto", 0.81)
        trained = {name: p.detach().to("cpu", torch.float32).clone()
                   for name, p in self.model.named_parameters() if p.requires_grad}
        peft_config = getattr(self.model, "peft_config", None)
        self.model = None
        release_freed_memory()
        _, model = self.load_base(torch.float32)
        if peft_config is not None:
            from peft import get_peft_model

            model = get_peft_model(model, peft_config["default"])
        missing = set(trained)
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                if name in trained:
                    parameter.copy_(trained[name])
                    missing.discard(name)
        if missing:
            raise BuildFailure(f"The trained weights did not fit the float32 model ({len(missing)} missing, "
                               f"e.g. {sorted(missing)[0]}).")
        self.model = model
        return model

    def export(self) -> dict[str, Any]:
        if self.config["method"] == "lora" and self.config.get("version_format", "adapter") == "adapter":
            return self.export_adapter()
        model = self.float32_model()
        if self.config["method"] == "lora":
            self.progress("merge", "Merging the LoRA adapter into the weights", 0.82)
            model = model.merge_and_unload()
        model = model.to("cpu").eval()
        for parameter in model.parameters():
            parameter.requires_grad = False
        hf_dir = self.out / "hf"
        self.progress("merge", "Saving the merged weights", 0.84)
        model.save_pretrained(hf_dir, safe_serialization=True)
        self.tokenizer.save_pretrained(hf_dir)
        self.check_cancel()
        onnx_dir = self.out / "onnx"
        started = time.monotonic()
        self.progress("export", "Exporting the new model to ONNX with Optimum", 0.86)
        export_onnx(model, onnx_dir)
        for name in RUNTIME_FILES:
            source = self.base / "onnx" / name
            if not source.is_file():
                source = hf_dir / name
            if source.is_file():
                shutil.copy2(source, onnx_dir / name)
        self.progress("export", "Checking the ONNX model against the trained weights", 0.95)
        check = check_export(model, self.tokenizer, onnx_dir)
        if self.precision != "fp32":
            self.progress("export", f"Quantising the weights ({self.precision}), as the active model's were", 0.97)
            check.update(quantize_weights(onnx_dir, self.tokenizer, self.precision))
        self.timings["export_seconds"] = round(time.monotonic() - started, 1)
        return check


def lora_updates(model) -> dict[str, tuple[Any, Any]]:
    """A peft model's LoRA updates as numpy (A [rank, in], B [out, rank] with the scaling folded in),
    keyed by the transformers module name (``model.layers.0.self_attn.q_proj``)."""
    updates = {}
    for name, module in model.named_modules():
        lora_a, lora_b = getattr(module, "lora_A", None), getattr(module, "lora_B", None)
        if lora_a is None or lora_b is None or "default" not in lora_a:
            continue
        scaling = float(module.scaling["default"])
        a = lora_a["default"].weight.detach().to("cpu").float().numpy()
        b = lora_b["default"].weight.detach().to("cpu").float().numpy() * scaling
        updates[name.removeprefix("base_model.model.")] = (a.copy(), b.copy())
    return updates


def batches(lengths: list[int], size: int, rng: random.Random, *, group_by_length: bool = True) -> list[list[int]]:
    """One epoch's batches of example indices, in random order.

    With ``group_by_length`` the shuffled examples are taken in windows of 16 batches, sorted by
    length inside each window and cut into batches: a batch pads to its longest row, so similar
    lengths waste little compute, while the windows keep the order random."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    if not group_by_length:
        return [order[start:start + size] for start in range(0, len(order), size)]
    window = size * 16
    result: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda index: lengths[index])
        result.extend(chunk[at:at + size] for at in range(0, len(chunk), size))
    rng.shuffle(result)
    return result


@dataclass
class PackedRows:
    """Rows laid out as one sequence: the prompt start they all share once, then each row's rest.

    ``segments`` is -1 on the shared start and the row's index on its own part; ``positions``
    restart after the shared start for every row; ``sources`` are the positions whose next token is
    labelled, ``targets`` those tokens and ``owners`` the rows they belong to."""

    ids: list[int]
    positions: list[int]
    segments: list[int]
    sources: list[int]
    targets: list[int]
    owners: list[int]


def shared_prefix_length(sequences: list[list[int]]) -> int:
    first = sequences[0]
    length = min(len(sequence) for sequence in sequences)
    for sequence in sequences[1:]:
        same = 0
        while same < length and sequence[same] == first[same]:
            same += 1
        length = same
    return length


def pack_rows(rows: list[tuple[list[int], list[int]]]) -> PackedRows:
    """Lay ``rows`` (token ids and labels, ``IGNORE`` where unlabelled) out as one sequence.

    A shared token's hidden state depends only on the tokens before it, which are shared too, so it
    is the same for every row: a row's label right after the shared start is read from there."""
    shared = shared_prefix_length([ids for ids, _ in rows])
    ids, positions, segments = list(rows[0][0][:shared]), list(range(shared)), [-1] * shared
    sources, targets, owners = [], [], []
    for row, (token_ids, labels) in enumerate(rows):
        offset = len(ids) - shared  # where position `shared` of this row lands in the packed sequence
        ids += token_ids[shared:]
        positions += range(shared, len(token_ids))
        segments += [row] * (len(token_ids) - shared)
        for position in range(len(token_ids) - 1):
            if labels[position + 1] != IGNORE:
                sources.append(position if position < shared else position + offset)
                targets.append(labels[position + 1])
                owners.append(row)
    return PackedRows(ids, positions, segments, sources, targets, owners)


_HEAD_FUNCTION = None


def head_logprobs_function(torch):
    """An autograd function: log-probabilities of targets under a frozen output layer, chunked.

    Each chunk's gradient with respect to the hidden states (onehot - softmax, times the weights)
    is worked out in the forward pass while its logits exist and only that is kept: no logits are
    stored or recomputed, and the softmax over the vocabulary is taken once instead of three times
    (forward, recompute, backward)."""
    global _HEAD_FUNCTION
    if _HEAD_FUNCTION is not None:
        return _HEAD_FUNCTION

    class HeadLogProbs(torch.autograd.Function):
        @staticmethod
        def forward(ctx, hidden, weight, targets, chunk, wants_grad):
            picked, grads = [], []
            for start in range(0, hidden.shape[0], chunk):
                rows = hidden[start:start + chunk].to(weight.dtype)
                wanted = targets[start:start + chunk]
                logits = (rows @ weight.t()).float()
                normaliser = torch.logsumexp(logits, dim=-1)
                picked.append(logits.gather(1, wanted[:, None])[:, 0] - normaliser)
                if wants_grad:
                    minus_grad = logits.sub_(normaliser[:, None]).exp_()  # softmax, in place
                    minus_grad[torch.arange(len(wanted), device=wanted.device), wanted] -= 1.0
                    grads.append(-(minus_grad.to(weight.dtype) @ weight))
            ctx.hidden_dtype = hidden.dtype
            if wants_grad:
                ctx.save_for_backward(torch.cat(grads) if grads else hidden.new_zeros(hidden.shape))
            return torch.cat(picked) if picked else hidden.new_zeros(0, dtype=torch.float32)

        @staticmethod
        def backward(ctx, upstream):
            (grads,) = ctx.saved_tensors
            return (upstream[:, None] * grads.float()).to(ctx.hidden_dtype), None, None, None, None

    _HEAD_FUNCTION = HeadLogProbs
    return HeadLogProbs


def _use_bf16(torch, device: str, wanted: str) -> bool:
    """bfloat16 where it is native: on CPUs without AVX512-BF16/AMX it is emulated and slower."""
    if wanted == "fp32":
        return False
    if device == "cuda":
        supported = torch.cuda.is_bf16_supported()
    else:
        try:
            supported = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
        except (AttributeError, RuntimeError):
            supported = False
    if wanted == "bf16" and not supported:
        emit("progress", stage="load", message="This processor has no native bfloat16; training in float32",
             fraction=None)
    return supported


def _decoder_layers(model):
    inner = getattr(model, "model", None)
    layers = getattr(inner, "layers", None)
    if layers is None:
        raise BuildFailure("This architecture has no decoder layer list; use --method lora or full.")
    return layers


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def release_freed_memory() -> None:
    """Collect garbage and hand freed heap back to the system. glibc keeps what a long training run
    freed for reuse (measured: 7.9 GB at the end of 200 steps whose own peak was 3.3 GB), and the
    float32 reload after it would come on top."""
    import gc

    gc.collect()
    trim_heap()


def trim_heap() -> None:
    """Return the heap's free pages to the system (glibc's malloc_trim; elsewhere nothing)."""
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        _MALLOC_TRIM = False
        if sys.platform.startswith("linux"):
            import ctypes

            try:
                _MALLOC_TRIM = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):  # not glibc (musl): nothing to trim
                pass
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


_MALLOC_TRIM = None


class HeapTrimmer:
    """Trims the heap whenever the process has grown ``slack`` bytes past its size after the last
    trim. Batches of different lengths leave freed memory glibc keeps but cannot reuse: measured
    on the 870 AdvertiseGen lines, +25 MB per step (3.2 GB at step 10, 4.0 GB at step 30, 7.9 GB
    at the end of 200 steps) where trimmed steps stay at 2.9-3.5 GB. Trimming every step would
    cost the page faults of refilling the freed memory every step."""

    def __init__(self, slack: int = 256 * 2**20) -> None:
        self.slack = slack
        self.baseline = _rss_bytes()
        self.trims = 0

    def step(self) -> None:
        rss = _rss_bytes()
        if rss is None:
            return
        if self.baseline is None or rss > self.baseline + self.slack:
            trim_heap()
            self.trims += 1
            self.baseline = _rss_bytes()
        elif rss < self.baseline:
            self.baseline = rss


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 2**20, 1)


def _curves(state: dict[str, Any], points: int = CURVE_POINTS) -> dict[str, list[list[float]]]:
    """The training loss per step (averaged into at most ``points`` [step, loss] pairs, so a long
    run keeps a small manifest) and every held-out evaluation [step, loss], for the Insights charts."""
    losses = [float(loss) for loss in state.get("losses") or []]
    width = max(1, math.ceil(len(losses) / points))
    curve = [[min(start + width, len(losses)), round(sum(chunk) / len(chunk), 5)]
             for start in range(0, len(losses), width) if (chunk := losses[start:start + width])]
    return {"loss_curve": curve, "heldout_curve": [list(p) for p in state.get("heldout_curve") or []]}


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "out of memory" in str(exc).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, required=True, help="the active model's folder (hf/ and onnx/)")
    parser.add_argument("--data", type=Path, required=True, help="JSON: config, train, heldout, pairs")
    parser.add_argument("--out", type=Path, required=True, help="staging folder for hf/ and onnx/")
    parser.add_argument("--cancel-file", type=Path, help="stop within one step once this file exists")
    parser.add_argument("--checkpoint-dir", type=Path, help="save progress here; resume from it after a kill")
    parser.add_argument("--activity-dir", type=Path, help="wait while a process marks generation here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        raw = args.data.read_bytes()
        data = json.loads(raw.decode("utf-8"))
        # the parent names the run (data, settings, parent model) so a restart finds its checkpoint
        fingerprint = data.get("fingerprint") or hashlib.sha256(raw).hexdigest()
        metadata = Run(args.base, data, args.out, args.cancel_file, checkpoint_dir=args.checkpoint_dir,
                       activity_dir=args.activity_dir, fingerprint=fingerprint).run()
    except TrainingCancelled:
        emit("cancelled")
        return EXIT_CANCELLED
    except BuildFailure as exc:
        emit("error", message=str(exc))
        return 2
    except Exception as exc:  # the parent shows the message; the traceback goes to the log
        traceback.print_exc(file=sys.stderr)
        if _is_out_of_memory(exc):
            emit("error", message="Ran out of memory while training. Lower --batch-size or max_length, use "
                                  "--method lora, or close other programs.")
            return 3
        emit("error", message=f"Training failed: {type(exc).__name__}: {exc}")
        return 1
    emit("done", metadata=metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main())
