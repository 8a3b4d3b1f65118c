"""Generate the tiny offline text-classification stand-in: tokenizer, random DistilBERT classifier, CSV data.

Usage: make_assets.py --out DIR [--seed 0]

Writes DIR/model, DIR/tokenizer, DIR/data/train.csv and DIR/data/eval.csv (columns text,label; the
labels are the strings food, sport, weather). Deterministic for a given seed (same bytes each time).
DIR/ASSETS_COMPLETE is written last; a run that finds it with the same version and seed does nothing.
Everything is built in a sibling temp folder and renamed into place, so a crash never leaves a DIR
that looks complete.
"""

import csv
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "common"))
import tiny_assets  # noqa: E402
from tiny_assets import MARKER, build_tokenizer  # noqa: E402,F401

ASSETS_VERSION = 1
N_TRAIN, N_EVAL = 480, 96
MODEL_SHAPE = {"dim": 64, "hidden_dim": 128, "n_layers": 2, "n_heads": 2}
# Dropout slows a random 2-layer model down more than it regularises it in 40 steps.
NO_DROPOUT = {"dropout": 0.0, "attention_dropout": 0.0, "seq_classif_dropout": 0.0}

NAMES = ["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
         "Kira", "Luca", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"]
DAYS = ["on Monday", "on Tuesday", "on Friday", "at the weekend", "yesterday", "last night", "this morning"]
# Each topic has its own words; a sentence carries three of them among shared names, days and verbs,
# so the label follows from a few tokens wherever they stand: learnable in ~40 steps by a tiny model.
TOPICS = {
    "food": ["soup", "bread", "recipe", "oven", "dessert", "kitchen", "pasta", "cheese", "spices", "bakery"],
    "sport": ["match", "goal", "referee", "team", "stadium", "coach", "tournament", "striker", "race", "medal"],
    "weather": ["rain", "storm", "sunshine", "fog", "snow", "forecast", "wind", "thunder", "frost", "clouds"],
}
TEMPLATES = [
    "{name} talked about the {a}, the {b} and the {c} {day}.",
    "{day}, {name} thought about the {a}; the {b} and the {c} came up too.",
    "The {a}, the {b} and the {c}: all {name} wrote about {day}.",
    "{name} read about the {a} {day} and sent a note on the {b} and the {c}.",
]
LABELS = sorted(TOPICS)


def make_row(rng: random.Random) -> tuple[str, str]:
    label = rng.choice(LABELS)
    a, b, c = rng.sample(TOPICS[label], k=3)
    text = rng.choice(TEMPLATES).format(name=rng.choice(NAMES), day=rng.choice(DAYS), a=a, b=b, c=c)
    return text[0].upper() + text[1:], label


def make_rows(seed: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rng = random.Random(seed)
    return [make_row(rng) for _ in range(N_TRAIN)], [make_row(rng) for _ in range(N_EVAL)]


def write_csv(path: str, rows: list[tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(rows)


def build_model(tokenizer, seed: int):
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    config = DistilBertConfig(
        vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)}, **MODEL_SHAPE, **NO_DROPOUT,
    )
    torch.manual_seed(seed)
    return DistilBertForSequenceClassification(config)


def marker_payload(seed: int) -> dict:
    return {"version": ASSETS_VERSION, "seed": seed}


def generate(staging: str, seed: int) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    train, evaluation = make_rows(seed)
    os.makedirs(os.path.join(staging, "data"))
    write_csv(os.path.join(staging, "data", "train.csv"), train)
    write_csv(os.path.join(staging, "data", "eval.csv"), evaluation)
    tokenizer = build_tokenizer([text for text, _ in train + evaluation])
    tokenizer.save_pretrained(os.path.join(staging, "tokenizer"))
    build_model(tokenizer, seed).save_pretrained(os.path.join(staging, "model"))


def make_assets(out: str, seed: int = 0) -> bool:
    """Build the assets into `out`; returns False when they were already up to date."""
    return tiny_assets.build_in_place(out, marker_payload(seed), lambda staging: generate(staging, seed))


def main(argv=None) -> int:
    return tiny_assets.main("tiny-cls", __doc__, make_assets, ASSETS_VERSION, argv)


if __name__ == "__main__":
    sys.exit(main())
