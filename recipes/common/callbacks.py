"""Trainer callbacks: progress lines (world process zero only) and signal-driven checkpoints."""

import os
import signal
import time

import torch
import torch.distributed as dist
from transformers import TrainerCallback

from progress import emit


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class ProgressCallback(TrainerCallback):
    def __init__(self, resumed_from: str | None):
        self.resumed_from = os.path.abspath(resumed_from) if resumed_from else None
        self.resumed_step = 0
        self.first_loss = None
        self.final_loss = None
        self.first_step_end = None
        self.last_step_end = None

    def announce_start(self, args, is_world_process_zero, max_steps, step):
        self.resumed_step = step
        if is_world_process_zero:
            emit({
                "event": "start",
                "world_size": args.world_size,
                "max_steps": max_steps,
                "resumed_from": self.resumed_from,
                "resumed_step": step,
                # The batch shape as the trainer took it: a run that shrank keeps its global batch with these.
                "per_device_train_batch_size": args.per_device_train_batch_size,
                "gradient_accumulation_steps": args.gradient_accumulation_steps,
            })

    def on_train_begin(self, args, state, control, **kwargs):
        self.announce_start(args, state.is_world_process_zero, state.max_steps, state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or "loss" not in logs:
            return
        loss = float(logs["loss"])
        self.first_loss = loss if self.first_loss is None else self.first_loss
        self.final_loss = loss
        if state.is_world_process_zero:
            emit({
                "event": "step",
                "step": state.global_step,
                "max_steps": state.max_steps,
                "loss": loss,
                "epoch": logs.get("epoch", state.epoch),
                "learning_rate": logs.get("learning_rate"),
            })

    def on_step_end(self, args, state, control, **kwargs):
        mark = (time.monotonic(), state.global_step)
        self.first_step_end = self.first_step_end or mark
        self.last_step_end = mark

    def steady_steps_per_second(self):
        """Steps per second after the first step (which carries allocation and warm-up), or None."""
        if self.first_step_end is None or self.last_step_end is None:
            return None
        (t0, s0), (t1, s1) = self.first_step_end, self.last_step_end
        return (s1 - s0) / (t1 - t0) if s1 > s0 and t1 > t0 else None

    def on_save(self, args, state, control, **kwargs):
        # Other ranks write their RNG state into the same folder: announce only once all are done.
        if _distributed():
            dist.barrier()
        if state.is_world_process_zero:
            path = os.path.join(args.output_dir, f"checkpoint-{state.global_step}")
            emit({"event": "checkpoint", "step": state.global_step, "path": os.path.abspath(path)})


class SignalCallback(TrainerCallback):
    """SIGUSR1: checkpoint at the next step boundary. SIGTERM: checkpoint there, then stop.
    SIGUSR2: finish now: checkpoint there and end training as if it had reached its last step (the
    model is written and scored as usual); what a run does when it reaches its spend or time cap.

    Handlers only count signals. At each step end the ranks agree (all-reduce MAX) on whether
    any rank got one, so every rank saves and stops at the same step even if only some were
    signalled; disagreeing would deadlock DDP's next collective.
    """

    def __init__(self):
        self.received = {signal.SIGUSR1: 0, signal.SIGTERM: 0, signal.SIGUSR2: 0}
        self.handled = dict(self.received)
        self.stopped_at = None
        self.finished_early_at = None
        for signum in self.received:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame):
        self.received[signum] += 1

    def _take_pending(self, signum) -> int:
        seen = self.received[signum]
        pending = int(seen > self.handled[signum])
        self.handled[signum] = seen
        return pending

    def on_step_end(self, args, state, control, **kwargs):
        flags = torch.tensor([
            self._take_pending(signal.SIGUSR1),
            self._take_pending(signal.SIGTERM),
            self._take_pending(signal.SIGUSR2),
        ])
        if _distributed():
            dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        save, stop, finish = bool(flags[0]), bool(flags[1]), bool(flags[2])
        if save or stop or finish:
            control.should_save = True
        if stop:
            control.should_training_stop = True
            self.stopped_at = state.global_step
        elif finish and state.global_step < state.max_steps:
            control.should_training_stop = True
            self.finished_early_at = state.global_step
        return control
