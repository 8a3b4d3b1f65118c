"""Accuracy and macro-F1 of predicted labels, as percentages (0-100) like the SQuAD scores."""


def accuracy(golds: list, predicted: list) -> float:
    return 100.0 * sum(g == p for g, p in zip(golds, predicted)) / len(golds)


def macro_f1(golds: list, predicted: list) -> float:
    """Mean over the labels that occur in `golds` or `predicted` (scikit-learn's default set) of each
    label's F1; a label never predicted correctly scores 0."""
    scores = []
    for label in set(golds) | set(predicted):
        hits = sum(g == label and p == label for g, p in zip(golds, predicted))
        predicted_count, gold_count = predicted.count(label), golds.count(label)
        scores.append(0.0 if hits == 0 else 2 * hits / (predicted_count + gold_count))
    return 100.0 * sum(scores) / len(scores)


def scores(golds: list, predicted: list) -> dict:
    return {"accuracy": accuracy(golds, predicted), "macro_f1": macro_f1(golds, predicted),
            "eval_samples": len(golds)}


def predictions_file(ids: list, golds: list, predicted: list, id_key: str) -> list[dict]:
    """eval_predictions.json: one {id_key: id or row index, "label", "predicted"} per evaluation row."""
    return [{id_key: row_id, "label": gold, "predicted": guess} for row_id, gold, guess in zip(ids, golds, predicted)]
