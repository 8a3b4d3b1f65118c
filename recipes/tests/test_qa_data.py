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
    ([{"id": "a"}], "top-level key 'data'"),
    ({"data": []}, "top-level key 'data'"),
    ({"data": [{"id": "a", "context": "c", "question": "q"}]}, "row 0 lacks answers"),
])
def test_bad_json_is_reported(tmp_path, payload, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(qa_data.DataError, match=message):
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


def test_hub_validation_rows_without_answers_are_refused(monkeypatch, rows):
    import cli
    import train_qa

    unanswered = dict(rows[5], answers={"text": [], "answer_start": []})
    fake_hub(monkeypatch, {"train": rows[:4], "validation": [rows[4], unanswered]})
    with pytest.raises(qa_data.DataError, match="rajpurkar/squad split validation: 1 of 2 evaluation rows "
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
