"""What train_qa.py and train_cls.py share: Trainer set-up, checkpoint agreement across ranks, signals,
the final model and evaluation files, the `done` event, and the exit on bad data or model.

A task supplies `load` (tokenizer, model, rows), `featurize` (train dataset, evaluation set) and
`evaluate`; `run` does the rest. Progress lines come from world process zero only (progress.py).
"""

import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

MODEL_DIR = "model"
EVAL_PREDICTIONS = "eval_predictions.json"
EVAL_RESULTS = "eval_results.json"
# sysexits.h EX_DATAERR: the data or the model cannot be used for this task (the orchestrator refuses
# the run instead of retrying it).
EXIT_DATA = 65

# TrainingArguments fields the trainer sets itself; naming one on the command line is an error (the
# orchestrator's MANAGED_ARGS refuses them in extraArgs). The other fields pass through (cli.py).
FORCED_TRAINING_ARGUMENTS = (
    "use_cpu",  # CPU clusters: never look for an accelerator
    "ddp_backend",  # gloo exactly when launched with several ranks (a backend for 1 process breaks accelerate)
    # Checkpoints at save_steps and on signals; one progress line per logged step; evaluation runs once after
    # training (the task scores it), so no evaluation during training.
    "save_strategy",
    "logging_strategy",
    "eval_strategy",
    # stdout carries progress lines only: no trackers, no progress bars.
    "report_to",
    "disable_tqdm",
    # The loss fix (see mean_loss_model): the heads return a mean loss, the same on 1 and N ranks.
    "average_tokens_across_devices",
    # Owned by the script's own arguments: the run's folder, --do_eval, and --resume (the checkpoint every
    # rank agrees on, agree_on_checkpoint).
    "output_dir",
    "do_eval",
    "resume_from_checkpoint",
)


def launched_world_size() -> int:
    """World size announced by the launcher (mpirun, torchrun, Intel MPI), 1 when run directly."""
    for name in ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def build_training_args(args):
    """The script's arguments, then the other TrainingArguments fields given (args.training_arguments), then
    the forced ones. Also sets up torch.distributed (gloo) when launched with several ranks."""
    from transformers import TrainingArguments

    from_script = dict(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        num_train_epochs=args.num_train_epochs,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        logging_steps=args.logging_steps,
        do_eval=args.do_eval,
        seed=args.seed,
        bf16=args.bf16,
        # QA and sequence-classification heads use every parameter; True costs a graph walk per step.
        ddp_find_unused_parameters=False,
    )
    forced = dict(
        use_cpu=True,
        # Naming a backend for a single process makes accelerate expect a process group.
        ddp_backend="gloo" if launched_world_size() > 1 else None,
        save_strategy="steps",
        logging_strategy="steps",
        eval_strategy="no",
        report_to="none",
        disable_tqdm=True,
        average_tokens_across_devices=False,
        output_dir=args.output_dir,
        do_eval=args.do_eval,
        resume_from_checkpoint=None,
    )
    assert set(forced) == set(FORCED_TRAINING_ARGUMENTS)
    return TrainingArguments(**{**from_script, **getattr(args, "training_arguments", {}), **forced})


def agree_on_checkpoint(args, program: str = "train_qa") -> str | None:
    """Rank 0's newest complete checkpoint, checked to be complete on every rank's disk."""
    import torch
    import torch.distributed as dist
    from checkpoints import is_complete_checkpoint, newest_complete_checkpoint

    chosen = newest_complete_checkpoint(args.output_dir) if args.resume else None
    if not (dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1):
        return chosen
    box = [chosen]
    dist.broadcast_object_list(box, src=0)
    chosen = box[0]
    here = chosen is None or is_complete_checkpoint(chosen)
    everywhere = torch.tensor([int(here)])
    dist.all_reduce(everywhere, op=dist.ReduceOp.MIN)
    if not everywhere.item():
        where = "on another rank's node" if here else "on this rank's node"
        sys.exit(f"{program} (rank {dist.get_rank()}): checkpoint {chosen}, the newest complete one on "
                 f"rank 0, is missing or incomplete {where}: copy the whole folder to every node")
    return chosen


def finished_step(checkpoint: str, max_steps: int) -> int | None:
    """The checkpoint's step if it already reached the run's last step, else None."""
    with open(os.path.join(checkpoint, "trainer_state.json"), encoding="utf-8") as handle:
        state = json.load(handle)
    target = max_steps if max_steps > 0 else state.get("max_steps") or 0
    return state["global_step"] if 0 < target <= state["global_step"] else None


def train(trainer, progress, signals, resumed_from, finished):
    """(global_step, runtime) after training, or None when a signal stopped it."""
    if finished is not None:
        # Trainer.train would run one extra step past max_steps; there is nothing left to train.
        progress.announce_start(trainer.args, trainer.is_world_process_zero(), finished, finished)
        return finished, 0.0
    result = trainer.train(resume_from_checkpoint=resumed_from)
    if signals.stopped_at is not None:
        return None
    return result.global_step, result.metrics["train_runtime"]


@dataclass
class EvalOutcome:
    loss: float
    # On world process zero only (None elsewhere):
    predictions: Any  # written to eval_predictions.json
    results: dict | None  # written to eval_results.json; holds eval_samples (examples scored)
    done_fields: dict = field(default_factory=dict)  # the task's eval_* fields of the done event


def write_json(path: str, payload) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, ensure_ascii=False)
        handle.write("\n")


def save_final_model(model, tokenizer, model_dir: str) -> None:
    """save_pretrained layout only (no training args); `model_dir` is complete or absent, never half."""
    staging = f"{model_dir}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(model_dir, ignore_errors=True)
    os.rename(staging, model_dir)


def publish(args, trainer, evaluation: EvalOutcome | None) -> None:
    """World process zero: the final model, then the evaluation files that describe it."""
    predictions_path = os.path.join(args.output_dir, EVAL_PREDICTIONS)
    results_path = os.path.join(args.output_dir, EVAL_RESULTS)
    for path in (predictions_path, results_path):  # an earlier run's files describe another model
        if os.path.exists(path):
            os.remove(path)
    save_final_model(trainer.model, trainer.processing_class, os.path.join(args.output_dir, MODEL_DIR))
    if evaluation is not None:
        write_json(predictions_path, evaluation.predictions)
        write_json(results_path, evaluation.results)


def report_done(args, training_args, progress, global_step, runtime, evaluation, eval_fields,
                finished_early=False) -> None:
    """eval_fields: the task's eval_* score fields of the done event (null without evaluation)."""
    from progress import emit

    # Trainer's own rates count all max_steps, also those done before a resume.
    steps = global_step - progress.resumed_step
    samples_per_step = training_args.per_device_train_batch_size * training_args.world_size \
        * training_args.gradient_accumulation_steps
    samples = steps * samples_per_step
    steady = progress.steady_steps_per_second()
    scores = evaluation.done_fields if evaluation else {name: None for name in eval_fields}
    emit({
        "event": "done",
        "global_step": global_step,
        "train_runtime": runtime,
        "train_samples_per_second": round(samples / runtime, 3) if runtime > 0 else 0.0,
        "train_steps_per_second": round(steps / runtime, 3) if runtime > 0 else 0.0,
        "steady_samples_per_second": round(steady * samples_per_step, 3) if steady else None,
        "first_loss": progress.first_loss,
        "final_loss": progress.final_loss,
        "eval_loss": evaluation.loss if evaluation else None,
        **{name: scores[name] for name in eval_fields},
        "eval_samples": evaluation.results["eval_samples"] if evaluation else None,
        "output_dir": os.path.abspath(args.output_dir),
        "model_dir": os.path.abspath(os.path.join(args.output_dir, MODEL_DIR)),
        "finished_early": finished_early,
    })


@dataclass
class Loaded:
    tokenizer: Any
    model: Any
    data: Any  # the task's rows


@dataclass
class Task:
    program: str  # prefix of error lines: train_qa, train_cls
    # (args, model path) -> Loaded; the ranks of a node take turns (the first one downloads).
    load: Callable[[Any, str], Loaded]
    # (args, Loaded) -> (train dataset, evaluation set or None); every rank at once.
    featurize: Callable[[Any, Loaded], tuple]
    evaluate: Callable[[Any, Any], EvalOutcome]  # (trainer, evaluation set) -> EvalOutcome
    eval_fields: tuple[str, ...]  # the task's eval_* score fields of the done event


def mean_loss_model(model):
    """Tell Trainer that the model's loss is a mean over its own batch (both tasks' heads: cross-entropy
    with reduction='mean'). transformers 5.18 takes a forward with **kwargs for a model that sums its loss
    over `num_items_in_batch`: it then multiplies each rank's loss by the number of ranks (with
    average_tokens_across_devices) and skips dividing it by gradient_accumulation_steps. A mean loss came out
    N times too high and trained at N times the learning rate under SGD-type optimizers. Setting
    accepts_loss_kwargs (Trainer reads it before the forward signature) fixes both scalings;
    average_tokens_across_devices=False alone would leave the gradient-accumulation one."""
    model.accepts_loss_kwargs = False
    return model


def build_trainer(args, training_args, resumed_from, model_path, task: Task):
    """(trainer, progress callback, signal callback, evaluation set or None)."""
    from callbacks import ProgressCallback, SignalCallback
    from transformers import PrinterCallback, Trainer

    # Handlers go in first so that a signal during loading and preprocessing is not lost.
    progress, signals = ProgressCallback(resumed_from), SignalCallback()
    # On the hub path, one download per node; the other local ranks then read the cache.
    with training_args.main_process_first(desc="loading model and data"):
        loaded = task.load(args, model_path)
    train_dataset, eval_set = task.featurize(args, loaded)
    trainer = Trainer(
        model=mean_loss_model(loaded.model),
        args=training_args,
        train_dataset=train_dataset,
        processing_class=loaded.tokenizer,
        callbacks=[progress, signals],
    )
    trainer.remove_callback(PrinterCallback)  # it prints raw dicts to stdout
    return trainer, progress, signals, eval_set


def run(args, task: Task) -> int:
    from progress import emit
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    training_args = build_training_args(args)
    resumed_from = agree_on_checkpoint(args, task.program)
    finished = finished_step(resumed_from, args.max_steps) if resumed_from else None
    model_path = resumed_from if finished is not None else args.model_name_or_path
    trainer, progress, signals, eval_set = build_trainer(args, training_args, resumed_from, model_path, task)
    outcome = train(trainer, progress, signals, resumed_from, finished)
    if outcome is None:
        if trainer.is_world_process_zero():
            emit({"event": "stopped", "step": signals.stopped_at})
        return 0
    evaluation = task.evaluate(trainer, eval_set) if eval_set is not None else None
    if trainer.is_world_process_zero():
        publish(args, trainer, evaluation)
        report_done(args, training_args, progress, *outcome, evaluation, task.eval_fields,
                    signals.finished_early_at is not None)
    return 0


def exit_refused(program: str, error: Exception) -> int:
    """Bad data or a model unfit for the task: one `<program>: <reason>` line on stderr, exit 65."""
    print(f"{program}: {error}", file=sys.stderr, flush=True)
    return EXIT_DATA


def shutdown_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        # Exiting with a live gloo group can abort in its thread destructors (seen once as exit 134).
        dist.barrier()
        dist.destroy_process_group()


def offline_if_local(args) -> None:
    import cli

    if cli.is_offline(args):
        # Must be set before transformers / huggingface_hub are imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
