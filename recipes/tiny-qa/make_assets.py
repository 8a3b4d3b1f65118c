"""Generate the tiny offline QA stand-in: tokenizer, random DistilBERT QA model, SQuAD-style data.

Usage: make_assets.py --out DIR [--seed 0]

Deterministic for a given seed. DIR/ASSETS_COMPLETE is written last; a run that finds it with the
same version and seed does nothing. Everything is built in a sibling temp folder and renamed into
place, so a crash never leaves a DIR that looks complete.
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "common"))
import tiny_assets  # noqa: E402
from tiny_assets import MARKER, build_tokenizer, write_json  # noqa: E402,F401

ASSETS_VERSION = 2
N_TRAIN, N_EVAL = 512, 64
MODEL_SHAPE = {"dim": 32, "hidden_dim": 64, "n_layers": 2, "n_heads": 2}

FIRST = ["Ada", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hiro", "Ines", "Jonas",
         "Kira", "Luca", "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Adler", "Baker", "Costa", "Dumas", "Evans", "Fischer", "Garcia", "Horvat", "Ito",
        "Jensen", "Kowalski", "Larsen", "Moreau", "Novak", "Okafor"]
# attribute: (values, fact sentence, question). Values never repeat across attributes and the question
# names the attribute right after "Which", so the answer is predictable from the question.
ATTRIBUTES = {
    "city": (["Lisbon", "Oslo", "Nairobi", "Osaka", "Quito", "Dublin", "Krakow", "Lyon", "Perth",
              "Cape Town", "Buenos Aires", "Hong Kong"],
             "{first} lives in {answer}.", "Which city does {full} live in?"),
    "job": (["baker", "nurse", "pilot", "carpenter", "chemist", "librarian", "plumber", "teacher",
             "bus driver", "tax advisor"],
            "{first} works as a {answer}.", "Which job does {full} do?"),
    "colour": (["red", "green", "blue", "yellow", "purple", "orange", "silver", "black", "dark blue"],
               "The favourite colour of {first} is {answer}.", "Which colour does {full} like best?"),
    "pet": (["dog", "cat", "parrot", "rabbit", "tortoise", "hamster", "goldfish", "ferret"],
            "{first} has a pet {answer}.", "Which pet does {full} have?"),
    "instrument": (["violin", "piano", "cello", "trumpet", "guitar", "flute", "drums", "harp"],
                   "On weekends {first} plays the {answer}.", "Which instrument does {full} play?"),
    "year": ([str(year) for year in range(1950, 2006)],
             "{first} was born in {answer}.", "Which year was {full} born in?"),
}
# In 40 steps the tiny model learns which words are answers, and only begins to learn which one the
# question asks for: one to three facts per context keep that within reach (with two to four, F1 stays
# near 40; see recipes/README.md). Two-word values let F1 give partial credit.
FACTS_PER_CONTEXT = (1, 3)


def make_row(rng: random.Random, row_id: str) -> dict:
    """A few facts about one person, in random order, and a question about one of them."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    names = {"first": first, "full": f"{first} {last}"}
    attributes = rng.sample(sorted(ATTRIBUTES), k=rng.randint(*FACTS_PER_CONTEXT))
    target = rng.choice(attributes)
    sentences = []
    for attribute in attributes:
        values, template, question = ATTRIBUTES[attribute]
        value = rng.choice(values)
        if attribute == target:
            answer, answer_start = value, sum(len(sentence) + 1 for sentence in sentences) \
                + len(template.split("{answer}")[0].format(**names))
            asked = question.format(**names)
        sentences.append(template.format(answer=value, **names))
    return {
        "id": row_id,
        "title": names["full"].replace(" ", "_"),
        "context": " ".join(sentences),
        "question": asked,
        "answers": {"text": [answer], "answer_start": [answer_start]},
    }


def make_rows(seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    train = [make_row(rng, f"tiny-train-{i:04d}") for i in range(N_TRAIN)]
    evaluation = [make_row(rng, f"tiny-eval-{i:04d}") for i in range(N_EVAL)]
    return train, evaluation


def build_model(tokenizer, seed: int):
    import torch
    from transformers import DistilBertConfig, DistilBertForQuestionAnswering

    config = DistilBertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id, **MODEL_SHAPE)
    torch.manual_seed(seed)
    return DistilBertForQuestionAnswering(config)


def marker_payload(seed: int) -> dict:
    return {"version": ASSETS_VERSION, "seed": seed}


def is_up_to_date(out: str, seed: int) -> bool:
    return tiny_assets.is_up_to_date(out, marker_payload(seed))


def generate(staging: str, seed: int) -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    train, evaluation = make_rows(seed)
    os.makedirs(os.path.join(staging, "data"))
    write_json(os.path.join(staging, "data", "train.json"), {"data": train})
    write_json(os.path.join(staging, "data", "eval.json"), {"data": evaluation})
    texts = [row[key] for row in train + evaluation for key in ("context", "question")]
    tokenizer = build_tokenizer(texts)
    tokenizer.save_pretrained(os.path.join(staging, "tokenizer"))
    build_model(tokenizer, seed).save_pretrained(os.path.join(staging, "model"))


def make_assets(out: str, seed: int = 0) -> bool:
    """Build the assets into `out`; returns False when they were already up to date."""
    return tiny_assets.build_in_place(out, marker_payload(seed), lambda staging: generate(staging, seed))


def main(argv=None) -> int:
    return tiny_assets.main("tiny-qa", __doc__, make_assets, ASSETS_VERSION, argv)


if __name__ == "__main__":
    sys.exit(main())
