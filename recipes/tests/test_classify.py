"""classify.py, the demo's last step for a classifier: it labels a validation row with the model's own label
names (config.id2label) and shows the gold label beside it."""

import shutil

import pytest

import classify


@pytest.fixture(scope="module")
def model_dir(cls_assets, tmp_path_factory):
    """A model folder as `tuneforge pull` delivers it: weights, config and tokenizer together."""
    folder = tmp_path_factory.mktemp("pulled") / "model"
    shutil.copytree(cls_assets / "model", folder)
    shutil.copytree(cls_assets / "tokenizer", folder, dirs_exist_ok=True)
    return folder


def test_labels_a_validation_row_with_the_models_label_names(cls_assets, model_dir, capsys):
    import data_files

    rows = data_files.read_file_rows(str(cls_assets / "data" / "eval.csv"))
    assert classify.main(["--model", str(model_dir), "--eval_file", str(cls_assets / "data" / "eval.csv"),
                          "--index", "3", "--max_seq_length", "64"]) == 0
    text, predicted, gold = capsys.readouterr().out.splitlines()
    assert text == f"Text:      {rows[3]['text']}"
    assert gold == f"Gold:      {rows[3]['label']}"
    assert predicted.removeprefix("Predicted: ") in {"food", "sport", "weather"}


def test_refuses_a_row_the_file_does_not_have(cls_assets, model_dir):
    with pytest.raises(SystemExit, match="has rows 0 to"):
        classify.main(["--model", str(model_dir), "--eval_file", str(cls_assets / "data" / "eval.csv"), "--index", "5000"])
