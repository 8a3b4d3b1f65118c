"""Command line of train_qa.py. Imports nothing heavy so bad arguments fail in milliseconds."""

import argparse
import os

import hub_ids


def _bounded(convert, ok, requirement: str):
    """argparse type: convert the text, then check it; errors say what was expected."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {requirement}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {requirement}, got {text!r}")
        return value

    return parse


_positive_int = _bounded(int, lambda v: v >= 1, "an integer >= 1")
_non_negative_int = _bounded(int, lambda v: v >= 0, "an integer >= 0")
_max_steps = _bounded(int, lambda v: v >= 1 or v == -1, "a step count >= 1, or -1 to train by epochs")
_positive_float = _bounded(float, lambda v: v > 0 and v != float("inf"), "a number > 0")
_non_negative_float = _bounded(float, lambda v: 0 <= v < float("inf"), "a number >= 0")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Fine-tune a model for extractive QA (SQuAD format) on CPU.")
    p.add_argument("--model_name_or_path", required=True)
    p.add_argument("--tokenizer_name", help="default: --model_name_or_path")
    p.add_argument("--train_file", help="local JSON: {\"data\": [SQuAD rows]}")
    p.add_argument("--validation_file", help="local JSON, same format (needed for --do_eval)")
    p.add_argument("--dataset_name",
                   help="Hugging Face hub dataset 'namespace/name' (e.g. rajpurkar/squad); needs the network")
    p.add_argument("--output_dir", required=True)
    p.add_argument("--max_steps", type=_max_steps, default=-1, help="-1: train --num_train_epochs")
    p.add_argument("--num_train_epochs", type=_positive_float, default=1.0)
    p.add_argument("--per_device_train_batch_size", type=_positive_int, default=8)
    p.add_argument("--gradient_accumulation_steps", type=_positive_int, default=1)
    p.add_argument("--learning_rate", type=_positive_float, default=5e-5)
    p.add_argument("--weight_decay", type=_non_negative_float, default=0.0)
    p.add_argument("--warmup_steps", type=_non_negative_int, default=0)
    p.add_argument("--save_steps", type=_positive_int, default=500)
    p.add_argument("--save_total_limit", type=_positive_int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (AMX on Sapphire Rapids)")
    p.add_argument("--max_seq_length", type=_positive_int, default=384)
    p.add_argument("--doc_stride", type=_positive_int, default=128)
    p.add_argument("--logging_steps", type=_positive_int, default=1)
    p.add_argument("--do_eval", action="store_true",
                   help="after training: SQuAD v1.1 exact match and F1 on the validation split")
    p.add_argument("--resume", action="store_true", help="resume from the newest complete checkpoint")
    return p


def _check(parser, args) -> None:
    local = args.train_file is not None
    if local == (args.dataset_name is not None):
        parser.error("give exactly one of --train_file or --dataset_name")
    if args.validation_file and not local:
        parser.error("--validation_file goes with --train_file (the hub path uses the dataset's split)")
    if args.do_eval and local and not args.validation_file:
        parser.error("--do_eval with --train_file needs --validation_file")
    for name in ("train_file", "validation_file"):
        path = getattr(args, name)
        if path is not None and not os.path.isfile(path):
            parser.error(f"--{name} {path}: no such file")
    for name, kind in (("model_name_or_path", "model"), ("tokenizer_name", "model"),
                       ("dataset_name", "dataset")):
        value = getattr(args, name)
        problem = hub_ids.problem(value, kind) if value else None
        if problem:
            parser.error(f"--{name} {problem}")
    if args.doc_stride >= args.max_seq_length:
        parser.error("--doc_stride must be smaller than --max_seq_length")
    if os.path.exists(args.output_dir) and not os.path.isdir(args.output_dir):
        parser.error(f"--output_dir {args.output_dir} exists and is not a folder")


def parse_args(argv=None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    _check(parser, args)
    if args.tokenizer_name is None:
        args.tokenizer_name = args.model_name_or_path
    return args


def is_offline(args) -> bool:
    """True when nothing needs the hub: local data, model and tokenizer folders."""
    return args.dataset_name is None and all(
        os.path.isdir(path) for path in (args.model_name_or_path, args.tokenizer_name)
    )
