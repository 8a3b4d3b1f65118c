"""SQuAD v1.1 evaluation: logits -> answer text (as run_qa's utils_qa), then exact match / F1.

Vendored so evaluation needs neither the `evaluate` package nor a metric download.
"""

import re
import string
from collections import Counter, defaultdict

import numpy as np
import torch

import qa_data

N_BEST = 20
MAX_ANSWER_TOKENS = 30
_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


class EvalError(ValueError):
    pass


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation, drop the articles a/an/the, collapse whitespace (SQuAD v1.1)."""
    text = "".join(char for char in text.lower() if char not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str) -> float:
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    shared = sum((Counter(predicted) & Counter(expected)).values())
    if shared == 0:
        return 0.0
    precision, recall = shared / len(predicted), shared / len(expected)
    return 2 * precision * recall / (precision + recall)


def references(rows: list[dict]) -> dict[str, list[str]]:
    """Example id -> its gold answer texts."""
    return {row["id"]: list(row["answers"]["text"]) for row in rows}


def _check_same_ids(predictions: dict, golds: dict) -> None:
    unanswered = sorted(golds.keys() - predictions.keys())
    unknown = sorted(predictions.keys() - golds.keys())
    if unanswered or unknown:
        raise EvalError(
            f"prediction ids do not match the reference ids: {len(unanswered)} references without a "
            f"prediction (e.g. {unanswered[:3]}), {len(unknown)} predictions without a reference "
            f"(e.g. {unknown[:3]})")


def squad_scores(predictions: dict[str, str], golds: dict[str, list[str]]) -> dict[str, float]:
    """Means x100 over the examples of the best exact match / F1 against any gold answer."""
    if not golds:
        raise EvalError("no reference answers to score against")
    _check_same_ids(predictions, golds)
    without_gold = [example_id for example_id, texts in golds.items() if not texts]
    if without_gold:
        raise EvalError(f"{len(without_gold)} references have no gold answer (e.g. {without_gold[0]!r})")
    totals = {"exact_match": 0.0, "f1": 0.0}
    for example_id, texts in golds.items():
        totals["exact_match"] += max(exact_match(predictions[example_id], text) for text in texts)
        totals["f1"] += max(f1(predictions[example_id], text) for text in texts)
    return {name: 100.0 * total / len(golds) for name, total in totals.items()}


def _top_indices(logits, count: int) -> list[int]:
    return np.argsort(logits)[-1 : -count - 1 : -1].tolist()


def _scored_spans(start_logits, end_logits, offsets, n_best, max_answer_tokens):
    """(score, first char, end char) of each allowed pair among one feature's n_best starts x n_best ends."""
    for start in _top_indices(start_logits, n_best):
        for end in _top_indices(end_logits, n_best):
            if offsets[start] is None or offsets[end] is None:
                continue  # not context: question, special or padding token
            if end < start or end - start + 1 > max_answer_tokens:
                continue
            yield float(start_logits[start] + end_logits[end]), offsets[start][0], offsets[end][1]


def _features_by_example(example_ids: list[str], known_ids) -> dict[str, list[int]]:
    grouped = defaultdict(list)
    for index, example_id in enumerate(example_ids):
        if example_id not in known_ids:
            raise EvalError(f"feature {index} belongs to {example_id!r}, which is not an evaluation example")
        grouped[example_id].append(index)
    return grouped


def postprocess_predictions(rows, example_ids, offsets, start_logits, end_logits, n_best: int = N_BEST,
                            max_answer_tokens: int = MAX_ANSWER_TOKENS) -> dict[str, str]:
    """Example id -> answer text: the best-scoring span over every feature (window) of the example.

    example_ids[i] and offsets[i] describe feature i (offsets: (first char, end char) per token, None
    outside the context); start_logits[i] / end_logits[i] are the model's scores for its tokens.
    """
    if not (len(example_ids) == len(offsets) == len(start_logits) == len(end_logits)):
        raise EvalError(f"{len(start_logits)} start and {len(end_logits)} end logit rows for "
                        f"{len(example_ids)} features")
    contexts = {row["id"]: row["context"] for row in rows}
    answers = {}
    for example_id, features in _features_by_example(example_ids, contexts).items():
        spans = [span for index in features
                 for span in _scored_spans(start_logits[index], end_logits[index], offsets[index],
                                           n_best, max_answer_tokens)]
        # utils_qa answers "empty" when no span qualifies; "" scores the same (0) and reads better.
        _, first, end = max(spans, key=lambda span: span[0], default=(None, 0, 0))
        answers[example_id] = contexts[example_id][first:end]
    return answers


def predict_answers(model, tokenizer, rows, max_seq_length: int, doc_stride: int,
                    batch_size: int = 32) -> dict[str, str]:
    """Answers of a plain (non-Trainer) model for `rows`, one process."""
    features = qa_data.prepare_validation_features(rows, tokenizer, max_seq_length, doc_stride)
    inputs = features.dataset.tensors
    model.eval()
    starts, ends = [], []
    with torch.no_grad():
        for first in range(0, len(features.dataset), batch_size):
            batch = slice(first, first + batch_size)
            output = model(input_ids=inputs["input_ids"][batch],
                           attention_mask=inputs["attention_mask"][batch])
            starts.append(output.start_logits.float().numpy())
            ends.append(output.end_logits.float().numpy())
    return postprocess_predictions(rows, features.example_ids, features.offsets,
                                   np.concatenate(starts), np.concatenate(ends))
