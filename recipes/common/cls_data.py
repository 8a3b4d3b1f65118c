"""Text-classification rows: column checks, the label set, and tokenized features.

A row has a text column, optionally a second text (pairs such as premise/hypothesis) and a label: a
string or an integer, one kind per split. The label set is the training split's distinct labels,
sorted; id i of the model is label i. Checks raise data_files.DataError naming source, row and column.
"""

from dataclasses import dataclass

import torch

import data_files
import data_rules
from data_files import DataError, fail  # noqa: F401 (DataError: the error train_cls reports)
from feature_dataset import FeatureDataset

CHUNK_ROWS = 1000
# More classes than this is a text column given as the label (the check before launch refuses it too).
MAX_LABELS = data_rules.CLASSIFICATION["maxLabels"]
MIN_CLASSES = data_rules.CLASSIFICATION["minClasses"]


@dataclass(frozen=True)
class Columns:
    text: str = data_rules.CLASSIFICATION["textColumn"]
    text_pair: str | None = None
    label: str = data_rules.CLASSIFICATION["labelColumn"]

    @classmethod
    def from_args(cls, args) -> "Columns":
        return cls(args.text_column, args.text_pair_column, args.label_column)

    def texts(self) -> tuple[str, ...]:
        return (self.text,) if self.text_pair is None else (self.text, self.text_pair)


def label_kind(label) -> str:
    return "an integer" if isinstance(label, int) else "a string"


def check_row(row: dict, index: int, source: str, columns: Columns) -> dict:
    """{"text", "text_pair"?, "label", "id"?}: the row's values under fixed names."""
    for column in (*columns.texts(), columns.label):
        if column not in row:
            present = ", ".join(sorted(map(str, row))) or "none"
            fail(source, f"missing (the row has: {present})", index, column)
    clean = {}
    for key, column in zip(("text", "text_pair"), columns.texts()):
        if not isinstance(row[column], str):
            fail(source, f"expected a string, got {_kind(row[column])}", index, column)
        clean[key] = row[column]
    label = row[columns.label]
    if isinstance(label, bool) or not isinstance(label, (str, int)):
        fail(source, f"expected a string or an integer label, got {_kind(label)}", index, columns.label)
    if isinstance(label, str) and not label.strip():
        fail(source, "empty label", index, columns.label)
    clean["label"] = label
    if "id" in row and isinstance(row["id"], (str, int)) and not isinstance(row["id"], bool):
        clean["id"] = row["id"]
    return clean


def _kind(value) -> str:
    return "null" if value is None else type(value).__name__


class LabelTally:
    """Labels of one split as rows stream past: one kind (string or integer) throughout."""

    def __init__(self, source: str, column: str):
        self.source, self.column = source, column
        self.counts: dict = {}
        self.kind = None

    def add(self, label, index: int) -> None:
        kind = label_kind(label)
        if self.kind is None:
            self.kind = kind
        elif kind != self.kind:
            fail(self.source, f"label {label!r} is {kind} but earlier labels are {self.kind.split()[-1]}s",
                 index, self.column)
        if label not in self.counts and len(self.counts) >= MAX_LABELS:
            fail(self.source, f"more than {MAX_LABELS} classes: is this the label column?", index, self.column)
        self.counts[label] = self.counts.get(label, 0) + 1

    def labels(self) -> list:
        return sorted(self.counts)


def training_labels(tally: LabelTally) -> list:
    """The sorted label set; one class cannot be learned."""
    labels = tally.labels()
    if len(labels) < MIN_CLASSES:
        fail(tally.source, f"only one class ({labels[0]!r}, all {tally.counts[labels[0]]} rows): text "
                           "classification needs at least two", column=tally.column)
    return labels


def check_validation_label(label, index: int, source: str, column: str, known: set, train_kind: str) -> None:
    if label not in known:
        if label_kind(label) != train_kind:
            fail(source, f"label {label!r} is {label_kind(label)} but the training labels are "
                         f"{train_kind.split()[-1]}s", index, column)
        fail(source, f"label {label!r} does not occur in the training split", index, column)


@dataclass
class Split:
    rows: list[dict]
    source: str


def load_split(source: "data_files.SplitSource", columns: Columns) -> Split:
    rows = data_files.checked(source, source.read(),
                              lambda row, index: check_row(row, index, source.label, columns))
    return Split(rows, source.label)


def label_set(train: Split, columns: Columns) -> list:
    tally = LabelTally(train.source, columns.label)
    for index, row in enumerate(train.rows):
        tally.add(row["label"], index)
    return training_labels(tally)


def check_validation(split: Split, labels: list, columns: Columns) -> None:
    known, kind = set(labels), label_kind(labels[0])
    for index, row in enumerate(split.rows):
        check_validation_label(row["label"], index, split.source, columns.label, known, kind)


def example_ids(rows: list[dict]) -> tuple[str, list]:
    """("id", each row's id) where every row has a distinct one, else ("row", the row indices)."""
    ids = [row.get("id") for row in rows]
    if None in ids or len(set(ids)) != len(ids):
        return "row", list(range(len(rows)))
    return "id", ids


def prepare_features(rows: list[dict], tokenizer, max_seq_length: int, labels: list) -> FeatureDataset:
    """Texts (or pairs) truncated and padded to max_seq_length, with `labels` as label ids."""
    label_id = {label: index for index, label in enumerate(labels)}
    parts = []
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start:start + CHUNK_ROWS]
        pairs = [row["text_pair"] for row in chunk] if "text_pair" in chunk[0] else None
        encoded = tokenizer([row["text"] for row in chunk], pairs, truncation=True, max_length=max_seq_length,
                            padding="max_length", return_tensors="pt")
        part = {key: encoded[key] for key in ("input_ids", "attention_mask")}
        part["labels"] = torch.tensor([label_id[row["label"]] for row in chunk], dtype=torch.long)
        parts.append(part)
    return FeatureDataset({key: torch.cat([part[key] for part in parts]) for key in parts[0]})
