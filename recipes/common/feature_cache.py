"""Tokenized training features cached on the node, so a trainer started again on the same node (a run
resumed after a node loss, a retried job) does not tokenize the same data again.

The key is (data hash, tokenizer, max_seq_length, doc_stride, FORMAT): a change to any of them is a
miss. A cache file that does not load as the expected tensors is ignored and written again. Files are
written under a temporary name and renamed, so ranks sharing a node never read half a file.
TUNEFORGE_FEATURE_CACHE names the folder (default ~/.cache/tuneforge/features); "off" turns it off.
"""

import hashlib
import json
import os
import tempfile

import torch

FORMAT = 1
CACHE_ENV = "TUNEFORGE_FEATURE_CACHE"
FEATURE_KEYS = ("input_ids", "attention_mask", "start_positions", "end_positions")


def cache_dir() -> str | None:
    """The cache folder, or None when the cache is off."""
    configured = os.environ.get(CACHE_ENV, "")
    if configured == "off":
        return None
    return configured or os.path.join(os.path.expanduser("~"), ".cache", "tuneforge", "features")


def data_hash(rows) -> str:
    canonical = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def tokenizer_hash(tokenizer) -> str:
    """The tokenizer's whole definition (vocabulary, normalizer, special tokens) and its padding side."""
    definition = json.loads(tokenizer.backend_tokenizer.to_str())
    # Calling the tokenizer sets these two on its backend; the call's own arguments are in the key.
    definition.pop("truncation", None)
    definition.pop("padding", None)
    identity = json.dumps([type(tokenizer).__name__, tokenizer.padding_side, definition], sort_keys=True)
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def cache_key(rows, tokenizer, max_seq_length: int, doc_stride: int) -> str:
    parts = [str(FORMAT), data_hash(rows), tokenizer_hash(tokenizer), str(int(max_seq_length)), str(int(doc_stride))]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def _load(path: str, max_seq_length: int):
    """The cached tensors, or None when the file is missing or not what this module writes."""
    try:
        tensors = torch.load(path, weights_only=True)
    except Exception:  # a missing, truncated or foreign file is a miss, never a failure
        return None
    if not isinstance(tensors, dict) or set(tensors) != set(FEATURE_KEYS):
        return None
    if not all(isinstance(t, torch.Tensor) and t.dtype == torch.long for t in tensors.values()):
        return None
    rows = tensors["input_ids"].shape[0]
    if any(t.shape[0] != rows for t in tensors.values()) or rows == 0:
        return None
    if tensors["input_ids"].dim() != 2 or tensors["input_ids"].shape != tensors["attention_mask"].shape:
        return None
    if tensors["input_ids"].shape[1] != max_seq_length:
        return None
    return tensors


def _store(path: str, tensors: dict) -> None:
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=folder, prefix=".features-", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            torch.save({key: tensors[key] for key in FEATURE_KEYS}, out)
        os.replace(temp, path)
    except OSError:
        pass  # a full or read-only disk costs the next start a tokenization, nothing more


def cached_features(rows, tokenizer, max_seq_length: int, doc_stride: int, build, directory: str | None = None):
    """build(rows, tokenizer, max_seq_length, doc_stride) -> FeatureDataset, read from the cache when it holds them."""
    from feature_dataset import FeatureDataset

    folder = directory if directory is not None else cache_dir()
    if folder is None:
        return build(rows, tokenizer, max_seq_length, doc_stride)
    path = os.path.join(folder, cache_key(rows, tokenizer, max_seq_length, doc_stride) + ".pt")
    tensors = _load(path, max_seq_length)
    if tensors is not None:
        return FeatureDataset(tensors)
    dataset = build(rows, tokenizer, max_seq_length, doc_stride)
    _store(path, dataset.tensors)
    return dataset
