"""The data rules from the trainers' side: data-rules.json is what qa_data.py and cls_data.py check, and
they judge every row of golden/data-rule-rows.json as src/data/split-check.ts does (test/data-rules.test.ts)."""

import json
import os

import pytest

import cls_data
import data_rules
import qa_data
from data_files import DataError

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "data-rule-rows.json")
CASES = json.load(open(GOLDEN, encoding="utf-8"))["cases"]
SOURCE = "train.jsonl"


def judge(task: str, rows: list[dict]) -> None:
    """Raises DataError as the trainer would for this training split."""
    if task == "question-answering":
        for index, row in enumerate(rows):
            qa_data.check_row(row, index, SOURCE)
        return
    columns = cls_data.Columns()
    tally = cls_data.LabelTally(SOURCE, columns.label)
    for index, row in enumerate(rows):
        tally.add(cls_data.check_row(row, index, SOURCE, columns)["label"], index)
    cls_data.training_labels(tally)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_trainers_judge_the_golden_rows(case):
    refused = case["refused"]
    if refused is None:
        judge(case["task"], case["rows"])
        return
    with pytest.raises(DataError) as error:
        judge(case["task"], case["rows"])
    row = "" if refused["row"] is None else f"row {refused['row']}: "
    assert str(error.value).startswith(f"{SOURCE}: {row}column {refused['column']}: "), str(error.value)


def test_the_trainers_read_the_rules_file():
    assert qa_data.REQUIRED_KEYS == tuple(data_rules.QA["columns"])
    assert cls_data.Columns() == cls_data.Columns(data_rules.CLASSIFICATION["textColumn"], None,
                                                  data_rules.CLASSIFICATION["labelColumn"])
    assert cls_data.MAX_LABELS == data_rules.CLASSIFICATION["maxLabels"] == 10_000
    assert cls_data.MIN_CLASSES == data_rules.CLASSIFICATION["minClasses"] == 2


def test_more_labels_than_the_rules_allow_are_refused(monkeypatch):
    monkeypatch.setattr(cls_data, "MAX_LABELS", 3)
    tally = cls_data.LabelTally(SOURCE, "label")
    for index, label in enumerate(["a", "b", "c", "a"]):
        tally.add(label, index)
    with pytest.raises(DataError, match=r"row 4: column label: more than 3 classes"):
        tally.add("d", 4)
