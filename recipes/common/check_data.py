"""Check a training (and validation) split before any node trains on it.

    check_data.py --task question-answering|text-classification  DATA SOURCE  [COLUMNS]

Data source: --train_file F | --dataset_name ID [--dataset_config_name C] [--dataset_revision R | --dataset_dir D]
[--train_split S]; validation (optional): --validation_file F or, with --dataset_name, --validation_split S.
Columns (text-classification): --text_column, --text_pair_column, --label_column, as train_cls.py.

Exit 0 with one JSON line on stdout: {"train_rows": N, "validation_rows": M or null, "labels": [...]}
(labels for text-classification only). Exit 65 with one line on stderr,
`check_data: <file or dataset:split>: row <n>: column <c>: <reason>` (row and column where they apply),
for: a missing column or a value of the wrong type, an empty split, one class, validation labels absent
from training, evaluation rows the QA scoring cannot use, an unreadable or malformed file.
Local files are streamed row by row (a .json file is parsed whole); hub splits are loaded with the
datasets library (only the named splits) and read from its memory-mapped cache.
"""

import argparse
import json
import os
import sys

import cli
from data_files import DataError, SplitSource, fail, hub_split

PROGRAM = "check_data"
EXIT_DATA = 65


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", required=True, choices=cli.TASKS)
    known, _ = p.parse_known_args(argv)
    cli.add_data_source_arguments(p, known.task)
    # Unlike the trainers, nothing is checked unless named: a hub dataset may have no validation split.
    p.set_defaults(validation_split=None)
    args = p.parse_args(argv)
    cli.check_data_source(p, args, args.task, files_must_exist=False)
    if args.validation_split is not None and args.dataset_name is None:
        p.error("--validation_split goes with --dataset_name")
    if args.validation_split is not None and args.validation_file is not None:
        p.error("give one of --validation_file or --validation_split")
    return args


def sources(args) -> tuple[SplitSource, SplitSource | None]:
    def hub(split: str) -> SplitSource:
        return SplitSource(hub=hub_split(args, split))

    train = SplitSource(path=args.train_file) if args.train_file else hub(args.train_split)
    if args.validation_file:
        return train, SplitSource(path=args.validation_file)
    return train, hub(args.validation_split) if args.validation_split else None


def _nonempty(source: SplitSource, count: int) -> int:
    if count == 0:
        fail(source.label, "no rows")
    return count


def check_classification(args, train: SplitSource, validation: SplitSource | None) -> dict:
    import cls_data

    columns = cls_data.Columns.from_args(args)
    tally = cls_data.LabelTally(train.label, columns.label)
    count = 0
    for index, row in enumerate(train.iter()):
        tally.add(cls_data.check_row(row, index, train.label, columns)["label"], index)
        count += 1
    _nonempty(train, count)
    labels = cls_data.training_labels(tally)
    validation_rows = None
    if validation is not None:
        known, kind = set(labels), cls_data.label_kind(labels[0])
        validation_rows = 0
        for index, row in enumerate(validation.iter()):
            label = cls_data.check_row(row, index, validation.label, columns)["label"]
            cls_data.check_validation_label(label, index, validation.label, columns.label, known, kind)
            validation_rows += 1
        _nonempty(validation, validation_rows)
    return {"train_rows": count, "validation_rows": validation_rows, "labels": labels}


def check_question_answering(train: SplitSource, validation: SplitSource | None) -> dict:
    import qa_data

    count = sum(1 for index, row in enumerate(train.iter()) if qa_data.check_row(row, index, train.label))
    _nonempty(train, count)
    validation_rows = None
    if validation is not None:
        seen = {}
        validation_rows = 0
        for index, row in enumerate(validation.iter()):
            row = qa_data.check_row(row, index, validation.label)
            if not any(text.strip() for text in row["answers"]["text"]):
                fail(validation.label, "no gold answer (SQuAD v1 scoring needs one in every evaluation row)",
                     index, "answers")
            if row["id"] in seen:
                fail(validation.label, f"id {row['id']!r} repeats row {seen[row['id']]} (evaluation ids must "
                                       "be unique)", index, "id")
            seen[row["id"]] = index
            validation_rows += 1
        _nonempty(validation, validation_rows)
    return {"train_rows": count, "validation_rows": validation_rows}


def check(args) -> dict:
    train, validation = sources(args)
    if args.task == cli.CLS:
        return check_classification(args, train, validation)
    return check_question_answering(train, validation)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.dataset_name is None or args.dataset_dir is not None:
        # Local files, or the hub dataset's copy the master pushed: nothing may reach the hub.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    try:
        summary = check(args)
    except DataError as error:
        print(f"{PROGRAM}: {error}", file=sys.stderr, flush=True)
        return EXIT_DATA
    print(json.dumps(summary, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
