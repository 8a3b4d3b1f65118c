"""Command lines of train_qa.py, train_cls.py and check_data.py. The scripts' own arguments are parsed
without importing anything heavy, so bad ones fail in milliseconds; any other `--name` must be a field of
`transformers.TrainingArguments` and is parsed as HfArgumentParser parses it (transformers is imported only
then)."""

import argparse
import difflib
import os
import re

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


QA = "question-answering"
CLS = "text-classification"
TASKS = (QA, CLS)
DATA_FORMATS = ".jsonl, .json (a list of rows or {\"data\": [rows]}) or .csv, by extension"
# Config names, revisions (branches, tags, commits) and splits (with datasets' slicing, e.g. train[:10%]).
_HUB_WORD = re.compile(r"^[A-Za-z0-9][\w.\-/]*$")
_SPLIT = re.compile(r"^[A-Za-z0-9][\w.\-+\[\]:%]*$")
_COLUMN = re.compile(r"^[^\x00-\x1f]{1,200}$")


def add_data_source_arguments(p: argparse.ArgumentParser, task: str) -> None:
    p.add_argument("--train_file", help=f"local file: {DATA_FORMATS}")
    p.add_argument("--validation_file", help="local file, same formats (default with --dataset_name: "
                                             "its --validation_split)")
    p.add_argument("--dataset_name",
                   help="Hugging Face hub dataset 'namespace/name' (e.g. rajpurkar/squad); needs the network "
                        "or the datasets cache")
    p.add_argument("--dataset_config_name", help="the dataset's configuration (subset)")
    p.add_argument("--dataset_revision", help="branch, tag or commit of the dataset repository")
    p.add_argument("--dataset_dir",
                   help="the --dataset_name repo's files already on this node (the master downloaded them once): "
                        "read from here, offline")
    p.add_argument("--train_split", default="train")
    p.add_argument("--validation_split", default="validation")
    if task == CLS:
        p.add_argument("--text_column", default="text")
        p.add_argument("--text_pair_column", help="second text of a pair (default: single texts)")
        p.add_argument("--label_column", default="label")


def check_data_source(parser, args, task: str, files_must_exist: bool = True) -> None:
    """files_must_exist=False leaves missing and unreadable files to the reader (check_data.py: exit 65)."""
    if (args.train_file is not None) == (args.dataset_name is not None):
        parser.error("give exactly one of --train_file or --dataset_name")
    for name in ("train_file", "validation_file") if files_must_exist else ():
        path = getattr(args, name)
        if path is not None and not os.path.isfile(path):
            parser.error(f"--{name} {path}: no such file")
        if path is not None and not path.lower().endswith((".jsonl", ".json", ".csv")):
            parser.error(f"--{name} {path}: expected a .jsonl, .json or .csv file")
    if args.dataset_name:
        problem = hub_ids.problem(args.dataset_name, "dataset")
        if problem:
            parser.error(f"--dataset_name {problem}")
    hub_only = ("dataset_config_name", "dataset_revision")
    for name in hub_only:
        value = getattr(args, name)
        if value is not None and args.dataset_name is None:
            parser.error(f"--{name} goes with --dataset_name")
        if value is not None and (not _HUB_WORD.match(value) or ".." in value):
            parser.error(f"--{name} {value!r}: expected letters, digits and . _ - /")
    if args.dataset_dir is not None:
        if args.dataset_name is None:
            parser.error("--dataset_dir goes with --dataset_name")
        if args.dataset_revision is not None:
            parser.error("give one of --dataset_dir or --dataset_revision (the folder is one revision already)")
        if files_must_exist and not os.path.isdir(args.dataset_dir):
            parser.error(f"--dataset_dir {args.dataset_dir}: no such directory")
    for name in ("train_split", "validation_split"):
        value = getattr(args, name)
        if value is not None and (not _SPLIT.match(value) or ".." in value):
            parser.error(f"--{name} {value!r}: expected a split name such as train, train[:10%] or train+test")
    if task == CLS:
        for name in ("text_column", "text_pair_column", "label_column"):
            value = getattr(args, name)
            if value is not None and not _COLUMN.match(value):
                parser.error(f"--{name} {value!r}: expected a column name (1-200 printable characters)")
        columns = [c for c in (args.text_column, args.text_pair_column, args.label_column) if c is not None]
        if len(set(columns)) != len(columns):
            parser.error("--text_column, --text_pair_column and --label_column must name different columns")


def build_parser(task: str = QA) -> argparse.ArgumentParser:
    what = "extractive QA (SQuAD format)" if task == QA else "text classification"
    # No abbreviations: `--seed` must not be taken for a prefix of another name, and a misspelt script
    # argument must reach the TrainingArguments check (which names the nearest valid name).
    p = argparse.ArgumentParser(description=f"Fine-tune a model for {what} on CPU. Also takes any "
                                            "transformers.TrainingArguments field as --name value.",
                                allow_abbrev=False)
    p.add_argument("--model_name_or_path", required=True)
    p.add_argument("--model_revision", help="branch, tag or commit of a hub model (and tokenizer)")
    p.add_argument("--tokenizer_name", help="default: --model_name_or_path")
    add_data_source_arguments(p, task)
    p.add_argument("--output_dir", required=True)
    p.add_argument("--max_steps", type=_max_steps, default=-1, help="-1: train --num_train_epochs")
    p.add_argument("--num_train_epochs", type=_positive_float, default=1.0)
    p.add_argument("--per_device_train_batch_size", type=_positive_int, default=8)
    p.add_argument("--gradient_accumulation_steps", type=_positive_int, default=1)
    # Hugging Face's examples: run_qa 3e-5, run_glue 2e-5.
    p.add_argument("--learning_rate", type=_positive_float, default=3e-5 if task == QA else 2e-5)
    p.add_argument("--weight_decay", type=_non_negative_float, default=0.0)
    p.add_argument("--warmup_steps", type=_non_negative_int, default=0)
    p.add_argument("--save_steps", type=_positive_int, default=500)
    p.add_argument("--save_total_limit", type=_positive_int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (AMX on Sapphire Rapids)")
    p.add_argument("--max_seq_length", type=_positive_int, default=384 if task == QA else 128)
    if task == QA:
        p.add_argument("--doc_stride", type=_positive_int, default=128)
    p.add_argument("--logging_steps", type=_positive_int, default=1)
    scores = "SQuAD v1.1 exact match and F1" if task == QA else "accuracy and macro-F1"
    p.add_argument("--do_eval", action="store_true", help=f"after training: {scores} on the validation split")
    p.add_argument("--resume", action="store_true", help="resume from the newest complete checkpoint")
    return p


def _check(parser, args, task: str) -> None:
    check_data_source(parser, args, task)
    if args.do_eval and args.train_file and not args.validation_file:
        parser.error("--do_eval with --train_file needs --validation_file")
    for name in ("model_name_or_path", "tokenizer_name"):
        value = getattr(args, name)
        problem = hub_ids.problem(value, "model") if value else None
        if problem:
            parser.error(f"--{name} {problem}")
    if args.model_revision is not None and (not _HUB_WORD.match(args.model_revision) or ".." in args.model_revision):
        parser.error(f"--model_revision {args.model_revision!r}: expected letters, digits and . _ - /")
    if task == QA and args.doc_stride >= args.max_seq_length:
        parser.error("--doc_stride must be smaller than --max_seq_length")
    if os.path.exists(args.output_dir) and not os.path.isdir(args.output_dir):
        parser.error(f"--output_dir {args.output_dir} exists and is not a folder")


def _option_name(word: str) -> str | None:
    """`--name=v` / `--name` -> `--name`; None for a value (negative numbers included)."""
    if not word.startswith("-") or re.match(r"^-\.?\d", word):
        return None
    return word.split("=", 1)[0]


def parse_training_arguments(parser, rest: list[str]) -> dict:
    """The TrainingArguments fields named in `rest` (what the script's own parser left) with their parsed
    values. A forced name, an unknown name or a bad value fails as `parser` fails (exit 2)."""
    from training_run import FORCED_TRAINING_ARGUMENTS
    from transformers import HfArgumentParser, TrainingArguments

    hf_parser = HfArgumentParser(TrainingArguments, add_help=False, allow_abbrev=False)
    hf_parser.error = parser.error  # one program name and usage line in every message
    dest_of = {option: action.dest for action in hf_parser._actions for option in action.option_strings}
    known = sorted({option for action in parser._actions for option in action.option_strings} | set(dest_of))
    given = []
    for word in rest:
        option = _option_name(word)
        if option is None:
            continue
        if option not in dest_of:
            near = difflib.get_close_matches(option, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            parser.error(f"unrecognized argument {option}: neither an argument of this script nor a "
                         f"transformers.TrainingArguments field{hint}")
        if dest_of[option] in FORCED_TRAINING_ARGUMENTS:
            parser.error(f"{option}: the trainer sets {dest_of[option]} itself (see FORCED_TRAINING_ARGUMENTS "
                         "in training_run.py)")
        given.append(dest_of[option])
    parsed = hf_parser.parse_args(rest)
    return {name: getattr(parsed, name) for name in given}


def parse_args(argv=None, task: str = QA) -> argparse.Namespace:
    """The script's arguments, plus `training_arguments`: the other TrainingArguments fields given."""
    parser = build_parser(task)
    args, rest = parser.parse_known_args(argv)
    _check(parser, args, task)
    args.training_arguments = parse_training_arguments(parser, rest) if rest else {}
    if args.tokenizer_name is None:
        args.tokenizer_name = args.model_name_or_path
    return args


def is_offline(args) -> bool:
    """True when nothing needs the hub: local data (files, or a hub dataset's copy), model and tokenizer folders."""
    return (args.dataset_name is None or args.dataset_dir is not None) and all(
        os.path.isdir(path) for path in (args.model_name_or_path, args.tokenizer_name)
    )
