"""The data rules both languages read (data-rules.json beside this file): QA's columns, classification's
default columns and fewest classes. src/data/data-rules.ts reads the same file for the check before launch."""

import json
import os

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data-rules.json")

with open(_PATH, encoding="utf-8") as _file:
    RULES = json.load(_file)

QA = RULES["question-answering"]
CLASSIFICATION = RULES["text-classification"]
