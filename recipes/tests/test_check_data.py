"""check_data.py: one JSON line and exit 0 for good data; one `check_data:` line and exit 65 naming the
file (or dataset:split), row and column for each kind of bad data."""

import csv
import json
import os
import subprocess
import sys
import types

import pytest

import check_data
from conftest import CHECK_DATA

CLS = ["--task", "text-classification"]
QA = ["--task", "question-answering"]


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return str(path)


def outcome(capsys, argv):
    code = check_data.main(argv)
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def refused(capsys, argv):
    code, out, err = outcome(capsys, argv)
    assert code == 65 and out == [] and len(err) == 1, (code, out, err)
    return err[0]


def test_tiny_cls_assets_pass_with_counts_and_labels(capsys, cls_assets):
    data = cls_assets / "data"
    code, out, err = outcome(capsys, CLS + ["--train_file", str(data / "train.csv"),
                                            "--validation_file", str(data / "eval.csv")])
    assert (code, err) == (0, [])
    assert [json.loads(line) for line in out] == [
        {"train_rows": 480, "validation_rows": 96, "labels": ["food", "sport", "weather"]}]


def test_tiny_qa_assets_pass(capsys, assets):
    data = assets / "data"
    code, out, _ = outcome(capsys, QA + ["--train_file", str(data / "train.json")])
    assert code == 0 and [json.loads(line) for line in out] == [{"train_rows": 512, "validation_rows": None}]


def test_integer_labels_pairs_and_other_column_names(capsys, tmp_path):
    rows = [{"premise": f"p{i}", "hypothesis": f"h{i}", "gold": i % 3} for i in range(9)]
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    code, out, _ = outcome(capsys, CLS + ["--train_file", train, "--validation_file", train, "--text_column",
                                          "premise", "--text_pair_column", "hypothesis", "--label_column", "gold"])
    assert code == 0 and json.loads(out[0]) == {"train_rows": 9, "validation_rows": 9, "labels": [0, 1, 2]}


def test_every_classification_failure_is_named(capsys, tmp_path):
    good = write_csv(tmp_path / "good.csv", [["a", "x"], ["b", "y"]])
    cases = [
        (["--train_file", write_csv(tmp_path / "nolabel.csv", [["a", "x"]], header=("text", "topic"))],
         "nolabel.csv: row 0: column label: missing (the row has: text, topic)"),
        (["--train_file", write_csv(tmp_path / "empty.csv", [])], "empty.csv: no rows"),
        (["--train_file", write_csv(tmp_path / "one.csv", [["a", "x"], ["b", "x"]])],
         "one.csv: column label: only one class ('x', all 2 rows): text classification needs at least two"),
        (["--train_file", good, "--validation_file", write_csv(tmp_path / "unseen.csv", [["a", "x"], ["c", "z"]])],
         "unseen.csv: row 1: column label: label 'z' does not occur in the training split"),
        (["--train_file", write_csv(tmp_path / "blank.csv", [["a", "x"], ["b", " "]])],
         "blank.csv: row 1: column label: empty label"),
        (["--train_file", write_jsonl(tmp_path / "mixed.jsonl", [{"text": "a", "label": 1},
                                                                  {"text": "b", "label": "two"}])],
         "mixed.jsonl: row 1: column label: label 'two' is a string but earlier labels are integers"),
        (["--train_file", write_jsonl(tmp_path / "float.jsonl", [{"text": "a", "label": 0.5}])],
         "float.jsonl: row 0: column label: expected a string or an integer label, got float"),
        (["--train_file", write_jsonl(tmp_path / "null.jsonl", [{"text": "a", "label": 1}, {"text": None, "label": 2}])],
         "null.jsonl: row 1: column text: expected a string, got null"),
        (["--train_file", good, "--validation_file",
          write_jsonl(tmp_path / "ints.jsonl", [{"text": "a", "label": 1}])],
         "ints.jsonl: row 0: column label: label 1 is an integer but the training labels are strings"),
        (["--train_file", good, "--text_pair_column", "other"],
         "good.csv: row 0: column other: missing (the row has: label, text)"),
        (["--train_file", str(tmp_path / "absent.csv")], "absent.csv: cannot read: No such file or directory"),
        (["--train_file", str(tmp_path / "good.tsv")], "good.tsv: unknown file type"),
        (["--train_file", write_csv(tmp_path / "ragged.csv", [["a", "x"], ["b", "y", "z"]])],
         "ragged.csv: row 1: 3 cells where the header has 2"),
    ]
    for argv, message in cases:
        assert refused(capsys, CLS + argv).startswith(f"check_data: {tmp_path}/{message}"), message


def qa_row(row_id, text="c"):
    return {"id": row_id, "context": "c", "question": "q", "answers": {"text": [text], "answer_start": [0]}}


def test_every_question_answering_failure_is_named(capsys, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", [qa_row("a"), qa_row("b")])
    cases = [
        (["--validation_file", write_jsonl(tmp_path / "noanswer.jsonl", [qa_row("a"), qa_row("b", " ")])],
         "noanswer.jsonl: row 1: column answers: no gold answer"),
        (["--validation_file", write_jsonl(tmp_path / "repeat.jsonl", [qa_row("a"), qa_row("b"), qa_row("a")])],
         "repeat.jsonl: row 2: column id: id 'a' repeats row 0"),
        (["--validation_file", write_jsonl(tmp_path / "noq.jsonl", [{"id": "a", "context": "c", "answers": {}}])],
         "noq.jsonl: row 0: column question: missing"),
        (["--validation_file", write_csv(tmp_path / "cell.csv", [["a", "c", "q", "{oops"]],
                                         header=("id", "context", "question", "answers"))],
         "cell.csv: row 0: column answers: malformed JSON"),
    ]
    for argv, message in cases:
        assert refused(capsys, QA + ["--train_file", good] + argv).startswith(f"check_data: {tmp_path}/{message}")


class FakeSplit(list):
    def to_list(self):
        return list(self)


@pytest.fixture
def fake_hub(monkeypatch):
    datasets = sys.modules.get("datasets") or types.ModuleType("datasets")
    monkeypatch.setitem(sys.modules, "datasets", datasets)
    calls, splits = [], {}

    def load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        if kwargs["split"] not in splits:
            raise ValueError(f'Unknown split "{kwargs["split"]}". Should be one of {sorted(splits)}.')
        return FakeSplit(splits[kwargs["split"]])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset, raising=False)
    return calls, splits


def test_hub_splits_are_loaded_by_name_and_named_in_errors(capsys, fake_hub):
    calls, splits = fake_hub
    splits["train"] = [{"sentence": "a", "label": 0}, {"sentence": "b", "label": 1}]
    splits["test"] = [{"sentence": "c", "label": 2}]
    hub = CLS + ["--dataset_name", "org/sst", "--dataset_config_name", "default", "--text_column", "sentence"]
    code, out, _ = outcome(capsys, hub)
    assert code == 0 and json.loads(out[0]) == {"train_rows": 2, "validation_rows": None, "labels": [0, 1]}
    assert calls == [(("org/sst", "default"), {"split": "train"})]  # no validation split asked for: none read
    assert refused(capsys, hub + ["--validation_split", "test"]) == (
        "check_data: org/sst:test: row 0: column label: label 2 does not occur in the training split")
    assert refused(capsys, hub + ["--validation_split", "dev"]).startswith(
        "check_data: org/sst:dev: cannot load: ValueError: Unknown split \"dev\"")


def test_a_hub_dataset_folder_is_loaded_from_the_folder_offline(capsys, fake_hub, tmp_path, monkeypatch):
    calls, splits = fake_hub
    splits["train"] = [{"text": "a", "label": 0}, {"text": "c", "label": 1}]
    splits["validation"] = [{"text": "b", "label": 0}]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    folder = str(tmp_path)
    code, out, _ = outcome(capsys, CLS + ["--dataset_name", "org/sst", "--dataset_dir", folder,
                                          "--dataset_config_name", "default", "--validation_split", "validation"])
    assert code == 0 and json.loads(out[0])["train_rows"] == 2
    # The folder the master pushed, not the hub id, and no revision: the folder is one commit already.
    assert calls == [((folder, "default"), {"split": "train"}), ((folder, "default"), {"split": "validation"})]
    assert os.environ.get("HF_HUB_OFFLINE") == "1" and os.environ.get("HF_DATASETS_OFFLINE") == "1"


def test_exit_code_and_streams_of_the_real_command(tmp_path):
    bad = write_csv(tmp_path / "one.csv", [["a", "x"]])
    proc = subprocess.run([sys.executable, CHECK_DATA, *CLS, "--train_file", bad], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 65 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"check_data: {bad}: column label: only one class ('x', all 1 rows): text "
                                        "classification needs at least two"]
