"""SQuAD-style rows -> fixed-length training features, like transformers' run_qa example."""

import json

import torch

REQUIRED_KEYS = ("id", "context", "question", "answers")
FEATURE_KEYS = ("input_ids", "attention_mask", "start_positions", "end_positions")
CHUNK_ROWS = 1000


class DataError(ValueError):
    pass


def load_json_rows(path: str) -> list[dict]:
    """Rows of a flat SQuAD JSON file: {"data": [{"id", "context", "question", "answers"}, ...]}."""
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {path}: {error}") from error
    rows = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(rows, list) or not rows:
        raise DataError(f"{path}: expected a non-empty list under the top-level key 'data'")
    for index, row in enumerate(rows):
        missing = [key for key in REQUIRED_KEYS if key not in row]
        if missing:
            raise DataError(f"{path}: row {index} lacks {', '.join(missing)}")
    return rows


def load_hub_rows(dataset_name: str, split: str) -> list[dict]:
    import datasets  # only the hub path needs (and may download with) the datasets library

    return datasets.load_dataset(dataset_name, split=split).to_list()


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


def _prepare_chunk(rows, tokenizer, max_seq_length, doc_stride):
    pad_on_right = tokenizer.padding_side == "right"
    questions = [row["question"].lstrip() for row in rows]
    contexts = [row["context"] for row in rows]
    encoded = tokenizer(
        questions if pad_on_right else contexts,
        contexts if pad_on_right else questions,
        truncation="only_second" if pad_on_right else "only_first",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length",
    )
    starts, ends = [], []
    for i, offsets in enumerate(encoded["offset_mapping"]):
        input_ids = encoded["input_ids"][i]
        cls_index = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
        answers = rows[encoded["overflow_to_sample_mapping"][i]]["answers"]
        start, end = _answer_token_span(
            answers, offsets, encoded.sequence_ids(i), 1 if pad_on_right else 0, cls_index
        )
        starts.append(start)
        ends.append(end)
    return {
        "input_ids": torch.tensor(encoded["input_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(encoded["attention_mask"], dtype=torch.long),
        "start_positions": torch.tensor(starts, dtype=torch.long),
        "end_positions": torch.tensor(ends, dtype=torch.long),
    }


class FeatureDataset(torch.utils.data.Dataset):
    def __init__(self, tensors: dict):
        self.tensors = tensors

    def __len__(self):
        return len(self.tensors["input_ids"])

    def __getitem__(self, index):
        return {key: value[index] for key, value in self.tensors.items()}


def prepare_features(rows, tokenizer, max_seq_length: int, doc_stride: int) -> FeatureDataset:
    """Tokenize question/context pairs with overflow windows and label answer start/end tokens."""
    chunks = [
        _prepare_chunk(rows[i : i + CHUNK_ROWS], tokenizer, max_seq_length, doc_stride)
        for i in range(0, len(rows), CHUNK_ROWS)
    ]
    return FeatureDataset({key: torch.cat([chunk[key] for chunk in chunks]) for key in FEATURE_KEYS})
