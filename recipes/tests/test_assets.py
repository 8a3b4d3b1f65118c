import json
import os

import pytest

import make_assets


def read_tree(root):
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                files[os.path.relpath(path, root)] = handle.read()
    return files


def test_layout_and_marker(assets):
    files = read_tree(assets)
    for name in ("data/train.json", "data/eval.json", "model/config.json", "model/model.safetensors",
                 "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json"):
        assert name in files
    marker = json.loads(files["ASSETS_COMPLETE"])
    assert marker == {"version": make_assets.ASSETS_VERSION, "seed": 0}


def test_same_seed_same_bytes_other_seed_other_data(assets, tmp_path):
    assert make_assets.make_assets(str(tmp_path / "again"), seed=0)
    assert read_tree(tmp_path / "again") == read_tree(assets)
    assert make_assets.make_rows(1) != make_assets.make_rows(0)


def test_up_to_date_assets_are_not_rewritten(assets, capsys):
    before = {name: os.stat(os.path.join(assets, name)).st_mtime_ns for name in read_tree(assets)}
    assert make_assets.main(["--out", str(assets)]) == 0
    assert "up to date" in capsys.readouterr().out
    after = {name: os.stat(os.path.join(assets, name)).st_mtime_ns for name in read_tree(assets)}
    assert after == before


def test_stale_marker_is_rebuilt(tmp_path):
    out = tmp_path / "assets"
    out.mkdir()
    (out / "leftover.txt").write_text("old")
    (out / make_assets.MARKER).write_text(json.dumps({"version": 0, "seed": 0}))
    assert make_assets.make_assets(str(out), seed=0) is True
    assert make_assets.is_up_to_date(str(out), seed=0)
    assert not (out / "leftover.txt").exists()
    assert sorted(os.listdir(tmp_path)) == ["assets"]


def test_crash_leaves_nothing_that_looks_complete(tmp_path, monkeypatch):
    def boom(tokenizer, seed):
        raise RuntimeError("simulated crash while building the model")

    monkeypatch.setattr(make_assets, "build_model", boom)
    with pytest.raises(RuntimeError):
        make_assets.make_assets(str(tmp_path / "assets"), seed=0)
    assert os.listdir(tmp_path) == []


def test_rows_answers_inside_contexts(assets):
    splits = {}
    for split, expected in (("train", make_assets.N_TRAIN), ("eval", make_assets.N_EVAL)):
        with open(assets / "data" / f"{split}.json", encoding="utf-8") as handle:
            rows = json.load(handle)["data"]
        assert len(rows) == expected
        for row in rows:
            assert set(row) == {"id", "title", "context", "question", "answers"}
            (text,), (start,) = row["answers"]["text"], row["answers"]["answer_start"]
            assert text and row["context"][start:start + len(text)] == text
        splits[split] = {row["id"] for row in rows}
    assert len(splits["train"] | splits["eval"]) == make_assets.N_TRAIN + make_assets.N_EVAL


def test_tokenizer_and_model_load_offline(assets):
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(assets / "tokenizer")
    assert tokenizer.is_fast
    for token in ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"):
        assert tokenizer.convert_tokens_to_ids(token) != tokenizer.unk_token_id or token == "[UNK]"
    encoded = tokenizer("Where was Ada born?", "Ada was born in Oslo.", return_offsets_mapping=True)
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert tokens[0] == "[CLS]" and tokens.count("[SEP]") == 2 and "[UNK]" not in tokens
    assert encoded["offset_mapping"][tokens.index("oslo")] == (16, 20)

    model = AutoModelForQuestionAnswering.from_pretrained(assets / "model")
    assert type(model).__name__ == "DistilBertForQuestionAnswering"
    config = model.config
    assert (config.dim, config.hidden_dim, config.n_layers, config.n_heads) == (32, 64, 2, 2)
    assert config.vocab_size == len(tokenizer)
    with torch.no_grad():
        output = model(input_ids=torch.tensor([encoded["input_ids"]]))
    assert output.start_logits.shape == (1, len(tokens))
