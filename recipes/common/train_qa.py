"""Fine-tune a model for extractive QA on CPU: one process, or one rank of an `mpirun` job.

Progress goes to stdout as `TUNEFORGE {json}` lines from the world process zero (see progress.py).
SIGUSR1: checkpoint at the next step boundary. SIGTERM: checkpoint there, then exit 0.
"""

import json
import os
import sys

import cli


def launched_world_size() -> int:
    """World size announced by the launcher (mpirun, torchrun, Intel MPI), 1 when run directly."""
    for name in ("WORLD_SIZE", "OMPI_COMM_WORLD_SIZE", "PMI_SIZE"):
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 1


def build_training_args(args):
    """Also sets up torch.distributed (gloo) when launched with several ranks."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=args.output_dir,
        max_steps=args.max_steps,
        num_train_epochs=args.num_train_epochs,
        per_device_train_batch_size=args.per_device_train_batch_size,
        per_device_eval_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup_steps,
        save_strategy="steps",
        save_steps=args.save_steps,
        save_total_limit=args.save_total_limit,
        logging_strategy="steps",
        logging_steps=args.logging_steps,
        eval_strategy="no",
        do_eval=args.do_eval,
        seed=args.seed,
        bf16=args.bf16,
        use_cpu=True,
        # Naming a backend for a single process makes accelerate expect a process group.
        ddp_backend="gloo" if launched_world_size() > 1 else None,
        ddp_find_unused_parameters=False,  # QA heads use every parameter; True costs a graph walk per step
        report_to="none",
        disable_tqdm=True,
    )


def load_rows(args):
    import qa_data

    if args.dataset_name:
        train = qa_data.load_hub_rows(args.dataset_name, "train")
        evaluation = qa_data.load_hub_rows(args.dataset_name, "validation") if args.do_eval else None
    else:
        train = qa_data.load_json_rows(args.train_file)
        evaluation = qa_data.load_json_rows(args.validation_file) if args.do_eval else None
    return train, evaluation


def agree_on_checkpoint(args) -> str | None:
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
        sys.exit(f"train_qa (rank {dist.get_rank()}): checkpoint {chosen}, the newest complete one on "
                 f"rank 0, is missing or incomplete {where}: copy the whole folder to every node")
    return chosen


def build_trainer(args, training_args, resumed_from, model_path):
    import qa_data
    from callbacks import ProgressCallback, SignalCallback
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer, PrinterCallback, Trainer

    # Handlers go in first so that a signal during loading and preprocessing is not lost.
    progress, signals = ProgressCallback(resumed_from), SignalCallback()
    # On the hub path, one download per node; the other local ranks then read the cache.
    with training_args.main_process_first(desc="loading model and data"):
        tokenizer = AutoTokenizer.from_pretrained(args.tokenizer_name)
        model = AutoModelForQuestionAnswering.from_pretrained(model_path)
        train_rows, eval_rows = load_rows(args)
    if not tokenizer.is_fast:
        sys.exit("train_qa: a fast tokenizer (offset mapping) is required")
    max_len = min(args.max_seq_length, tokenizer.model_max_length)
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=qa_data.prepare_features(train_rows, tokenizer, max_len, args.doc_stride),
        eval_dataset=(qa_data.prepare_features(eval_rows, tokenizer, max_len, args.doc_stride)
                      if eval_rows is not None else None),
        processing_class=tokenizer,
        callbacks=[progress, signals],
    )
    trainer.remove_callback(PrinterCallback)  # it prints raw dicts to stdout
    return trainer, progress, signals


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


def report_done(args, training_args, progress, global_step, runtime, eval_loss) -> None:
    from progress import emit

    # Trainer's own rates count all max_steps, also those done before a resume.
    steps = global_step - progress.resumed_step
    samples_per_step = training_args.per_device_train_batch_size * training_args.world_size \
        * training_args.gradient_accumulation_steps
    samples = steps * samples_per_step
    steady = progress.steady_steps_per_second()
    emit({
        "event": "done",
        "global_step": global_step,
        "train_runtime": runtime,
        "train_samples_per_second": round(samples / runtime, 3) if runtime > 0 else 0.0,
        "train_steps_per_second": round(steps / runtime, 3) if runtime > 0 else 0.0,
        "steady_samples_per_second": round(steady * samples_per_step, 3) if steady else None,
        "first_loss": progress.first_loss,
        "final_loss": progress.final_loss,
        "eval_loss": eval_loss,
        "output_dir": os.path.abspath(args.output_dir),
    })


def run(args) -> int:
    from progress import emit
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    training_args = build_training_args(args)
    resumed_from = agree_on_checkpoint(args)
    finished = finished_step(resumed_from, args.max_steps) if resumed_from else None
    model_path = resumed_from if finished is not None else args.model_name_or_path
    trainer, progress, signals = build_trainer(args, training_args, resumed_from, model_path)
    outcome = train(trainer, progress, signals, resumed_from, finished)
    if outcome is None:
        if trainer.is_world_process_zero():
            emit({"event": "stopped", "step": signals.stopped_at})
        return 0
    eval_loss = trainer.evaluate()["eval_loss"] if args.do_eval else None
    trainer.save_model()
    if trainer.is_world_process_zero():
        report_done(args, training_args, progress, *outcome, eval_loss)
    return 0


def main(argv=None) -> int:
    args = cli.parse_args(argv)
    if cli.is_offline(args):
        # Must be set before transformers / huggingface_hub are imported.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    code = run(args)
    shutdown_distributed()
    return code


def shutdown_distributed() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        # Exiting with a live gloo group can abort in its thread destructors (seen once as exit 134).
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
