import json

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
