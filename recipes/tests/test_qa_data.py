import json
import sys
import types
from types import SimpleNamespace

import pytest

import qa_data


@pytest.fixture(scope="module")
def tokenizer(assets):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(assets / "tokenizer")


GOOD = {"id": "a", "context": "c", "question": "q", "answers": {"text": ["c"], "answer_start": [0]}}


@pytest.fixture(scope="module")
def rows(assets):
    return qa_data.load_json_rows(str(assets / "data" / "train.json"))


@pytest.mark.parametrize("max_len,stride", [(96, 32), (32, 8), (24, 4)])
def test_labels_point_at_the_answer(tokenizer, rows, max_len, stride):
    features = qa_data.prepare_features(rows, tokenizer, max_len, stride)
    windows = tokenizer([r["question"] for r in rows], [r["context"] for r in rows],
                        truncation="only_second", max_length=max_len, stride=stride,
                        return_overflowing_tokens=True)["overflow_to_sample_mapping"]
    assert len(features) == len(windows) and features.tensors["input_ids"].shape[1] == max_len
    labelled_rows = set()
    for index, row_index in enumerate(windows):
        item = features[index]
        start, end = int(item["start_positions"]), int(item["end_positions"])
        if start == 0:
            assert end == 0
            continue
        span = tokenizer.decode(item["input_ids"][start:end + 1]).replace(" ", "")
        assert span == rows[row_index]["answers"]["text"][0].lower().replace(" ", "")
        labelled_rows.add(row_index)
    assert labelled_rows == set(range(len(rows)))


def test_short_windows_overflow(tokenizer, rows):
    assert len(qa_data.prepare_features(rows, tokenizer, 24, 4)) > len(rows)
    assert set(qa_data.prepare_features(rows, tokenizer, 24, 4)[0]) == set(qa_data.FEATURE_KEYS)


@pytest.mark.parametrize("payload,message", [
    ({"rows": []}, 'expected a list of rows or {"data": [rows]}'),
    ([{"id": "a"}], "row 0: column context: missing"),
    ({"data": []}, "no rows"),
    ({"data": [{"id": "a", "context": "c", "question": "q"}]}, "row 0: column answers: missing"),
    ([GOOD, {**GOOD, "answers": {"text": ["x"], "answer_start": []}}],
     "row 1: column answers: 1 texts but 0 answer_start values"),
    ([{**GOOD, "answers": {"text": "x", "answer_start": [0]}}], "row 0: column answers: text must be a list"),
    ([{**GOOD, "answers": {"text": ["x"], "answer_start": ["0"]}}], "row 0: column answers: answer_start must"),
    ([{**GOOD, "question": None}], "row 0: column question: expected a string, got NoneType"),
])
def test_bad_json_is_reported(tmp_path, payload, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(qa_data.DataError) as error:
        qa_data.load_json_rows(str(path))
    assert str(error.value).startswith(f"{path}: {message}")


def test_qa_rows_read_the_same_from_jsonl_json_and_csv(tmp_path, rows):
    import csv

    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows[:5]))
    (tmp_path / "rows.json").write_text(json.dumps(rows[:5]))
    with open(tmp_path / "rows.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["id", "title", "context", "question", "answers"])
        writer.writeheader()
        writer.writerows({**row, "answers": json.dumps(row["answers"])} for row in rows[:5])
    for name in ("rows.jsonl", "rows.json", "rows.csv"):
        assert qa_data.load_json_rows(str(tmp_path / name)) == rows[:5], name


def test_a_csv_answers_cell_that_is_not_json_names_row_and_column(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text('id,context,question,answers\na,ctx,q?,"{""text"": [""c""], ""answer_start"": [0]}"\n'
                    "b,ctx,q?,not json\n")
    with pytest.raises(qa_data.DataError, match=f"^{path}: row 1: column answers: malformed JSON: "):
        qa_data.load_json_rows(str(path))


def fake_hub(monkeypatch, splits):
    """Replaces datasets.load_dataset (no network); returns the list of (args, kwargs) it got."""
    try:
        import datasets
    except ImportError:  # the tiny-qa venv has no datasets: stand in for the module itself
        datasets = types.ModuleType("datasets")
        monkeypatch.setitem(sys.modules, "datasets", datasets)
    calls = []

    def load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return SimpleNamespace(to_list=lambda: [dict(row) for row in splits[kwargs["split"]]])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset, raising=False)
    return calls


HUB_ARGS = ["--model_name_or_path", "distilbert/distilbert-base-uncased", "--output_dir", "out",
            "--dataset_name", "rajpurkar/squad"]


def test_hub_path_loads_train_and_validation_splits(monkeypatch, rows):
    import cli
    import train_qa

    calls = fake_hub(monkeypatch, {"train": rows[:4], "validation": rows[4:6]})
    train, evaluation = train_qa.load_rows(cli.parse_args(HUB_ARGS + ["--do_eval"]))
    assert calls == [(("rajpurkar/squad",), {"split": "train"}), (("rajpurkar/squad",), {"split": "validation"})]
    assert train == rows[:4] and evaluation == rows[4:6]


def test_hub_config_revision_and_splits_are_passed_on(monkeypatch, rows):
    import cli
    import train_qa

    calls = fake_hub(monkeypatch, {"tr[:4]": rows[:4], "dev": rows[4:6]})
    args = cli.parse_args(HUB_ARGS + ["--do_eval", "--dataset_config_name", "plain_text", "--dataset_revision",
                                      "v1.0", "--train_split", "tr[:4]", "--validation_split", "dev"])
    train, evaluation = train_qa.load_rows(args)
    assert calls == [(("rajpurkar/squad", "plain_text"), {"split": "tr[:4]", "revision": "v1.0"}),
                     (("rajpurkar/squad", "plain_text"), {"split": "dev", "revision": "v1.0"})]
    assert train == rows[:4] and evaluation == rows[4:6]


def test_hub_train_split_with_a_local_validation_file(monkeypatch, rows, assets):
    import cli
    import train_qa

    calls = fake_hub(monkeypatch, {"train": rows[:4]})
    eval_file = str(assets / "data" / "eval.json")
    train, evaluation = train_qa.load_rows(cli.parse_args(HUB_ARGS + ["--do_eval", "--validation_file", eval_file]))
    assert calls == [(("rajpurkar/squad",), {"split": "train"})]
    assert train == rows[:4] and evaluation == qa_data.load_json_rows(eval_file)


def test_hub_validation_rows_without_answers_are_refused(monkeypatch, rows):
    import cli
    import train_qa

    unanswered = dict(rows[5], answers={"text": [], "answer_start": []})
    fake_hub(monkeypatch, {"train": rows[:4], "validation": [rows[4], unanswered]})
    with pytest.raises(qa_data.DataError, match="rajpurkar/squad:validation: 1 of 2 evaluation rows "
                                                f"have no answer \\(first: '{unanswered['id']}'\\)"):
        train_qa.load_rows(cli.parse_args(HUB_ARGS + ["--do_eval"]))


def test_single_segment_hub_dataset_is_refused_before_loading(monkeypatch):
    calls = fake_hub(monkeypatch, {})
    with pytest.raises(qa_data.DataError, match=r"--dataset_name squad: .*\(use rajpurkar/squad\)"):
        qa_data.load_hub_rows("squad", "train")
    assert calls == []


def test_eval_row_ids_must_be_unique(rows):
    with pytest.raises(qa_data.DataError, match=f"ids must be unique \\('{rows[0]['id']}' repeats\\)"):
        qa_data.check_eval_rows([rows[0], rows[1], rows[0]], "eval.json")
