import copy

import pytest
import torch

import feature_cache
import qa_data


@pytest.fixture(scope="module")
def tokenizer(assets):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(assets / "tokenizer")


@pytest.fixture(scope="module")
def rows(assets):
    return qa_data.load_json_rows(str(assets / "data" / "train.json"))


class Builds:
    """qa_data.prepare_features, recording the arguments of every call that really tokenized."""

    def __init__(self):
        self.calls = []

    def __call__(self, rows, tokenizer, max_len, stride):
        self.calls.append((len(rows), max_len, stride))
        return qa_data.prepare_features(rows, tokenizer, max_len, stride)


def cache_files(folder):
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".pt")


def same_tensors(a, b):
    return all(torch.equal(a.tensors[k], b.tensors[k]) for k in feature_cache.FEATURE_KEYS)


def test_a_second_start_reads_the_cache_and_gets_the_same_features(tmp_path, rows, tokenizer):
    build = Builds()
    first = feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    assert len(build.calls) == 1 and len(cache_files(tmp_path)) == 1
    second = feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    assert len(build.calls) == 1, "the second start tokenized again"
    assert same_tensors(first, second)
    assert same_tensors(second, qa_data.prepare_features(rows, tokenizer, 32, 8))


@pytest.mark.parametrize("change", ["max_seq_length", "doc_stride", "data", "tokenizer"])
def test_a_changed_key_is_a_miss(tmp_path, rows, tokenizer, change):
    build = Builds()
    feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    other_rows, other_tokenizer, max_len, stride = rows, tokenizer, 32, 8
    if change == "max_seq_length":
        max_len = 40
    elif change == "doc_stride":
        stride = 4
    elif change == "data":
        other_rows = copy.deepcopy(rows)
        other_rows[0]["question"] = other_rows[0]["question"] + " really"
    else:
        other_tokenizer = copy.deepcopy(tokenizer)
        other_tokenizer.padding_side = "left"
    features = feature_cache.cached_features(other_rows, other_tokenizer, max_len, stride, build, str(tmp_path))
    assert len(build.calls) == 2, f"a changed {change} was served from the cache"
    assert len(cache_files(tmp_path)) == 2
    assert same_tensors(features, qa_data.prepare_features(other_rows, other_tokenizer, max_len, stride))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong keys", "wrong width", "pickle"])
def test_a_corrupt_cache_file_is_ignored_and_rewritten(tmp_path, rows, tokenizer, damage):
    build = Builds()
    good = feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    [name] = cache_files(tmp_path)
    path = tmp_path / name
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    elif damage == "wrong keys":
        torch.save({"input_ids": good.tensors["input_ids"]}, path)
    elif damage == "wrong width":
        torch.save({k: v[:, :16] if v.dim() == 2 else v for k, v in good.tensors.items()}, path)
    else:
        # Code in a pickle must never run: weights_only loading refuses it, and the file is a miss.
        marker = tmp_path / "ran"
        torch.save({"x": Exploit(str(marker))}, path)
    features = feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    assert len(build.calls) == 2, f"a {damage} cache file was used"
    assert same_tensors(features, good)
    assert not (tmp_path / "ran").exists()
    again = feature_cache.cached_features(rows, tokenizer, 32, 8, build, str(tmp_path))
    assert len(build.calls) == 2, "the rewritten cache file was not used"
    assert same_tensors(again, good)


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_off_never_writes(tmp_path, rows, tokenizer, monkeypatch):
    monkeypatch.setenv(feature_cache.CACHE_ENV, "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    build = Builds()
    feature_cache.cached_features(rows, tokenizer, 32, 8, build)
    feature_cache.cached_features(rows, tokenizer, 32, 8, build)
    assert len(build.calls) == 2
    assert not any(tmp_path.rglob("*.pt"))
