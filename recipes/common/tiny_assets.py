"""What the tiny offline recipes' make_assets.py share: a deterministic WordPiece tokenizer built from
the data, the completion marker, and building into a sibling folder that is renamed into place (a
crash never leaves a folder that looks complete)."""

import argparse
import json
import os
import shutil

MARKER = "ASSETS_COMPLETE"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_tokenizer(texts: list[str]):
    from tokenizers import Tokenizer, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece
    from tokenizers.trainers import WordPieceTrainer
    from transformers import DistilBertTokenizer

    raw = Tokenizer(WordPiece(unk_token="[UNK]"))
    raw.normalizer = normalizers.BertNormalizer(lowercase=True)
    raw.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = WordPieceTrainer(
        vocab_size=1000, min_frequency=1, special_tokens=SPECIAL_TOKENS, show_progress=False
    )
    raw.train_from_iterator(texts, trainer=trainer)
    words = {
        word
        for text in texts
        for word, _ in raw.pre_tokenizer.pre_tokenize_str(raw.normalizer.normalize_str(text))
    }
    # The trainer breaks ties between equally frequent merges in hash order, so its intermediate
    # pieces differ between runs: keep only the stable part (characters and whole words), sorted.
    kept = sorted(
        token for token in raw.get_vocab()
        if token not in SPECIAL_TOKENS and (len(token.removeprefix("##")) == 1 or token in words)
    )
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + kept)}
    # Wrapping the vocab gives the standard BERT normalizer, [CLS]/[SEP] template and offsets.
    return DistilBertTokenizer(vocab=vocab, model_max_length=512)


def write_json(path: str, payload) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
        handle.write("\n")


def is_up_to_date(out: str, payload: dict) -> bool:
    try:
        with open(os.path.join(out, MARKER), encoding="utf-8") as handle:
            return json.load(handle) == payload
    except (OSError, ValueError):
        return False


def build_in_place(out: str, marker: dict, generate) -> bool:
    """generate(staging folder) builds everything but the marker; False when `out` already has `marker`."""
    out = os.path.abspath(out)
    if is_up_to_date(out, marker):
        return False
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    staging, old = f"{out}.partial-{os.getpid()}", f"{out}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    try:
        generate(staging)
        write_json(os.path.join(staging, MARKER), marker)
        if os.path.exists(out):
            os.rename(out, old)
        os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return True


def main(name: str, doc: str, make_assets, version, argv=None) -> int:
    """The make_assets.py command line: --out DIR [--seed N]."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder to create (replaced if stale)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if make_assets(args.out, args.seed):
        print(f"{name} assets written to {os.path.abspath(args.out)}")
    else:
        print(f"{name} assets in {os.path.abspath(args.out)} are up to date (version {version})")
    return 0
