"""recipes/tiny-cls/make_assets.py: layout, same bytes for the same seed, and data a trainer can use."""

import csv
import os

from conftest import tiny_cls_assets_module
from test_assets import read_tree

make_assets = tiny_cls_assets_module()


def test_layout_marker_and_same_bytes_each_time(cls_assets, tmp_path):
    files = read_tree(cls_assets)
    assert sorted(files) == ["ASSETS_COMPLETE", "data/eval.csv", "data/train.csv", "model/config.json",
                             "model/model.safetensors", "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json"]
    assert make_assets.make_assets(str(tmp_path / "again"), seed=0)
    assert read_tree(tmp_path / "again") == files
    assert make_assets.make_assets(str(tmp_path / "again"), seed=0) is False  # up to date: untouched
    assert make_assets.make_rows(1) != make_assets.make_rows(0)


def test_csv_data_has_text_and_string_labels_of_three_classes(cls_assets):
    for name, count in (("train.csv", make_assets.N_TRAIN), ("eval.csv", make_assets.N_EVAL)):
        with open(os.path.join(cls_assets, "data", name), newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == count and all(set(row) == {"text", "label"} and row["text"] for row in rows)
        labels = [row["label"] for row in rows]
        assert sorted(set(labels)) == ["food", "sport", "weather"]
        assert min(labels.count(label) for label in set(labels)) > count / 5  # no class is rare


def test_the_model_is_a_three_label_classifier_of_the_tokenizer(cls_assets):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(cls_assets / "tokenizer")
    model = AutoModelForSequenceClassification.from_pretrained(cls_assets / "model")
    assert tokenizer.is_fast and model.config.vocab_size == len(tokenizer)
    assert model.config.id2label == {0: "food", 1: "sport", 2: "weather"}
    assert "[UNK]" not in tokenizer.tokenize("Ada talked about the soup, the match and the rain on Monday.")
