"""SQuAD-style rows -> fixed-length features, like transformers' run_qa example."""

import json
from collections import Counter
from dataclasses import dataclass

import torch

import data_files
import data_rules
from data_files import DataError, fail  # noqa: F401 (DataError: the error train_qa reports)
from feature_dataset import FeatureDataset

REQUIRED_KEYS = tuple(data_rules.QA["columns"])
TEXT_KEYS = tuple(data_rules.QA["textColumns"])
FEATURE_KEYS = ("input_ids", "attention_mask", "start_positions", "end_positions")
CHUNK_ROWS = 1000


def load_json_rows(path: str) -> list[dict]:
    """Checked QA rows of a local .jsonl / .json / .csv file (name kept from when only JSON was read)."""
    return data_files.checked(data_files.SplitSource(path=path), data_files.iter_file_rows(path),
                              lambda row, index: check_row(row, index, path))


def load_hub_rows(dataset_name: str, split: str, config: str | None = None, revision: str | None = None) -> list[dict]:
    source = data_files.SplitSource(hub=data_files.HubSplit(dataset_name, split, config, revision))
    return load_rows(source)


def load_rows(source: "data_files.SplitSource") -> list[dict]:
    return data_files.checked(source, source.read(), lambda row, index: check_row(row, index, source.label))


def _answers(value, source: str, index: int) -> dict:
    if isinstance(value, str):  # a CSV cell (or any text cell) holds the answers as JSON
        try:
            value = json.loads(value)
        except ValueError as error:
            fail(source, f"malformed JSON: {error}", index, "answers")
    if not isinstance(value, dict) or not {"text", "answer_start"} <= set(value):
        fail(source, 'expected {"text": [...], "answer_start": [...]}', index, "answers")
    texts, starts = value["text"], value["answer_start"]
    if not (isinstance(texts, list) and all(isinstance(text, str) for text in texts)):
        fail(source, "text must be a list of strings", index, "answers")
    if not (isinstance(starts, list) and all(type(start) is int and start >= 0 for start in starts)):
        fail(source, "answer_start must be a list of integers >= 0", index, "answers")
    if len(texts) != len(starts):
        fail(source, f"{len(texts)} texts but {len(starts)} answer_start values", index, "answers")
    return {**value, "text": texts, "answer_start": starts}


def check_row(row: dict, index: int, source: str) -> dict:
    """The row with `answers` parsed (a JSON string in CSV) and a string id; DataError names what is wrong."""
    for key in REQUIRED_KEYS:
        if key not in row:
            fail(source, "missing", index, key)
    for key in TEXT_KEYS:
        if not isinstance(row[key], str):
            fail(source, f"expected a string, got {type(row[key]).__name__}", index, key)
    if not isinstance(row["id"], (str, int)) or isinstance(row["id"], bool) or row["id"] == "":
        fail(source, "expected a non-empty string or an integer", index, "id")
    return {**row, "id": str(row["id"]), "answers": _answers(row["answers"], source, index)}


def check_eval_rows(rows: list[dict], source: str) -> None:
    """SQuAD v1 scoring needs unique ids and at least one gold answer per example."""
    unanswered = [row["id"] for row in rows if not any(text.strip() for text in row["answers"]["text"])]
    if unanswered:
        raise DataError(f"{source}: {len(unanswered)} of {len(rows)} evaluation rows have no answer "
                        f"(first: {unanswered[0]!r}); SQuAD v1 scoring needs a gold answer in every row")
    repeated = [row_id for row_id, count in Counter(row["id"] for row in rows).items() if count > 1]
    if repeated:
        raise DataError(f"{source}: evaluation row ids must be unique ({repeated[0]!r} repeats)")


def _answer_token_span(answers, offsets, sequence_ids, context_id, cls_index):
    """(start, end) token indices of the first answer, or (cls, cls) if it is not in this window."""
    if len(answers["answer_start"]) == 0:
        return cls_index, cls_index
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    context_first = sequence_ids.index(context_id)
    context_last = len(sequence_ids) - 1 - sequence_ids[::-1].index(context_id)
    if not (offsets[context_first][0] <= start_char and offsets[context_last][1] >= end_char):
        return cls_index, cls_index
    # run_qa lets `start` run into the trailing [SEP] when the answer ends the window; stop at the context.
    start = context_first
    while start <= context_last and offsets[start][0] <= start_char:
        start += 1
    end = context_last
    while offsets[end][1] >= end_char:
        end -= 1
    return start - 1, end + 1


def _context_sequence_id(tokenizer) -> int:
    return 1 if tokenizer.padding_side == "right" else 0


def _encode(rows, tokenizer, max_seq_length, doc_stride):
    pad_on_right = tokenizer.padding_side == "right"
    questions = [row["question"].lstrip() for row in rows]
    contexts = [row["context"] for row in rows]
    return tokenizer(
        questions if pad_on_right else contexts,
        contexts if pad_on_right else questions,
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )


def _labelled_tensors(encoded, rows, tokenizer) -> dict:
    starts, ends = [], []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        input_ids = encoded["input_ids"][i]
        cls_index = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
        answers = rows[encoded["overflow_to_sample_mapping"][i]]["answers"]
        start, end = _answer_token_span(
            answers, offsets, encoded.sequence_ids(i), _context_sequence_id(tokenizer), cls_index
        )
        starts.append(start)
        ends.append(end)
    return {
        "input_ids": torch.tensor(encoded["input_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(encoded["attention_mask"], dtype=torch.long),
        "start_positions": torch.tensor(starts, dtype=torch.long),
        "end_positions": torch.tensor(ends, dtype=torch.long),
    }


def _context_offsets(encoded, index, context_id) -> list[tuple[int, int] | None]:
    """Character span of each token of feature `index`; None for tokens outside the context."""
    sequence_ids = encoded.sequence_ids(index)
    return [tuple(span) if sequence_ids[k] == context_id else None
            for k, span in enumerate(encoded["offset_mapping"][index])]


def _chunks(rows):
    return [rows[i : i + CHUNK_ROWS] for i in range(0, len(rows), CHUNK_ROWS)]


def _concatenated(parts: list[dict]) -> FeatureDataset:
    return FeatureDataset({key: torch.cat([part[key] for part in parts]) for key in FEATURE_KEYS})


def prepare_features(rows, tokenizer, max_seq_length: int, doc_stride: int) -> FeatureDataset:
    """Tokenize question/context pairs with overflow windows and label answer start/end tokens."""
    return _concatenated([
        _labelled_tensors(_encode(chunk, tokenizer, max_seq_length, doc_stride), chunk, tokenizer)
        for chunk in _chunks(rows)
    ])


@dataclass
class ValidationFeatures:
    """Model inputs (labelled, for the loss) and, per feature (window), what maps logits back to text."""

    dataset: FeatureDataset
    example_ids: list[str]
    offsets: list[list[tuple[int, int] | None]]


def prepare_validation_features(rows, tokenizer, max_seq_length: int, doc_stride: int) -> ValidationFeatures:
    """Like run_qa's prepare_validation_features, plus the training labels so the loss can be reported."""
    context_id = _context_sequence_id(tokenizer)
    parts, example_ids, offsets = [], [], []
    for chunk in _chunks(rows):
        encoded = _encode(chunk, tokenizer, max_seq_length, doc_stride)
        parts.append(_labelled_tensors(encoded, chunk, tokenizer))
        for index, row_index in enumerate(encoded["overflow_to_sample_mapping"]):
            example_ids.append(chunk[row_index]["id"])
            offsets.append(_context_offsets(encoded, index, context_id))
    return ValidationFeatures(_concatenated(parts), example_ids, offsets)
