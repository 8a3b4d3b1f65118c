"""Rows of a data split: a local .jsonl / .json / .csv file (by extension) or a hub dataset split.

Errors are DataError with the message `<source>: row <n>: column <c>: <reason>` (row and column where
they apply); <source> is the file path or `<dataset>:<split>`. Rows count from 0 (the first data row;
a CSV header is not a row), the same index eval_predictions.json uses for rows without an id.
"""

import csv
import json
import os
from dataclasses import dataclass
from typing import Iterator

import hub_ids

EXTENSIONS = (".jsonl", ".json", ".csv")
# csv's default 128 KiB cell limit is smaller than a long document.
CSV_CELL_LIMIT = 64 * 1024 * 1024


class DataError(ValueError):
    pass


def problem_at(source: str, reason: str, row: int | None = None, column: str | None = None) -> str:
    where = [source]
    if row is not None:
        where.append(f"row {row}")
    if column is not None:
        where.append(f"column {column}")
    return ": ".join(where + [reason])


def fail(source: str, reason: str, row: int | None = None, column: str | None = None):
    raise DataError(problem_at(source, reason, row, column))


@dataclass(frozen=True)
class HubSplit:
    name: str
    split: str
    config: str | None = None
    revision: str | None = None
    # The repo as the master downloaded it and pushed it to this node (--dataset_dir): read offline from here.
    folder: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}:{self.split}"


def file_format(path: str) -> str:
    for extension in EXTENSIONS:
        if path.lower().endswith(extension):
            return extension[1:]
    fail(path, f"unknown file type (expected one of {', '.join(EXTENSIONS)})")


def iter_file_rows(path: str) -> Iterator[dict]:
    """The rows of a local file as dicts, read as they are needed (.json files are parsed whole)."""
    kind = file_format(path)
    reader = {"jsonl": _jsonl_rows, "json": _json_rows, "csv": _csv_rows}[kind]
    try:
        yield from reader(path)
    except OSError as error:
        fail(path, f"cannot read: {error.strerror or error}")


def _decoding_failed(path: str, row: int, error: UnicodeDecodeError):
    fail(path, f"not UTF-8 text ({error.reason} at byte {error.start} of the block read)", row)


def _jsonl_rows(path: str) -> Iterator[dict]:
    index = 0
    with open(path, encoding="utf-8-sig") as handle:
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError as error:
                _decoding_failed(path, index, error)
            if not line:
                return
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as error:
                fail(path, f"malformed JSON: {error}", index)
            if not isinstance(row, dict):
                fail(path, f"expected a JSON object, got {type(row).__name__}", index)
            yield row
            index += 1


def _json_rows(path: str) -> Iterator[dict]:
    try:
        with open(path, encoding="utf-8-sig") as handle:
            payload = json.load(handle)
    except UnicodeDecodeError as error:
        fail(path, f"not UTF-8 text ({error.reason})")
    except ValueError as error:
        fail(path, f"malformed JSON: {error}")
    rows = payload.get("data") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        fail(path, "expected a list of rows or {\"data\": [rows]}")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            fail(path, f"expected a JSON object, got {type(row).__name__}", index)
        yield row


def _csv_rows(path: str) -> Iterator[dict]:
    csv.field_size_limit(CSV_CELL_LIMIT)
    index = 0
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            if len(set(header)) != len(header) or "" in header:
                fail(path, f"the header row needs distinct, non-empty column names, got {header}")
            for cells in reader:
                if not cells:
                    continue  # blank line
                if len(cells) != len(header):
                    fail(path, f"{len(cells)} cells where the header has {len(header)}", index)
                yield dict(zip(header, cells))
                index += 1
        except csv.Error as error:
            fail(path, f"malformed CSV: {error}", index)
        except UnicodeDecodeError as error:
            _decoding_failed(path, index, error)


def read_file_rows(path: str) -> list[dict]:
    return list(iter_file_rows(path))


def load_hub_split(source: HubSplit):
    """The split as a datasets.Dataset (iterating it reads rows from the memory-mapped cache)."""
    problem = hub_ids.problem(source.name, "dataset")
    if problem:
        raise DataError(f"--dataset_name {problem}")
    import datasets  # only the hub path needs (and may download with) the datasets library

    repo = source.folder if source.folder is not None else source.name
    args = (repo,) if source.config is None else (repo, source.config)
    kwargs = {"split": source.split}
    if source.revision is not None and source.folder is None:
        kwargs["revision"] = source.revision
    try:
        return datasets.load_dataset(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 (unknown split or config, no such dataset, offline, ...)
        fail(source.label, f"cannot load: {type(error).__name__}: {error}")


def read_hub_rows(source: HubSplit) -> list[dict]:
    return load_hub_split(source).to_list()


@dataclass(frozen=True)
class SplitSource:
    """Where one split comes from: a local file path, or a hub split."""

    path: str | None = None
    hub: HubSplit | None = None

    @property
    def label(self) -> str:
        return self.path if self.path is not None else self.hub.label

    def read(self) -> list[dict]:
        return read_file_rows(self.path) if self.path is not None else read_hub_rows(self.hub)

    def iter(self):
        return iter_file_rows(self.path) if self.path is not None else iter(load_hub_split(self.hub))


def hub_split(args, split: str) -> HubSplit:
    """One split of the hub dataset named by cli.py's options (its local copy with --dataset_dir)."""
    folder = getattr(args, "dataset_dir", None)
    return HubSplit(args.dataset_name, split, args.dataset_config_name, args.dataset_revision, folder)


def split_sources(args, need_validation: bool) -> tuple[SplitSource, SplitSource | None]:
    """(train, validation or None) from the data-source options of cli.py."""

    def hub(split: str) -> SplitSource:
        return SplitSource(hub=hub_split(args, split))

    train = SplitSource(path=args.train_file) if args.train_file else hub(args.train_split)
    if not need_validation:
        return train, None
    if args.validation_file:
        return train, SplitSource(path=args.validation_file)
    return train, hub(args.validation_split)


def checked(source: SplitSource, rows, check_row) -> list[dict]:
    """check_row(row, index) -> the row as the task uses it; a split without rows is refused."""
    result = [check_row(row, index) for index, row in enumerate(rows)]
    if not result:
        fail(source.label, "no rows")
    return result
