"""The spec's list of trainer argument names (src/run-spec/training-argument-names.ts) is exactly what the installed
transformers and the trainer scripts accept: a transformers upgrade that adds, renames or drops a TrainingArguments
field fails here until the generator is run again."""

import dataclasses
import os

import transformers

import list_training_arguments

TS_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "run-spec", "training-argument-names.ts")


def test_the_ts_list_is_what_the_generator_makes_from_the_installed_transformers():
    with open(TS_FILE, encoding="utf-8") as f:
        stored = f.read()
    assert stored == list_training_arguments.render(), (
        "src/run-spec/training-argument-names.ts is out of step with the installed transformers "
        f"{transformers.__version__}: run recipes/common/list_training_arguments.py (see its docstring)"
    )


def test_the_list_holds_every_training_argument_and_the_scripts_own_options():
    names = list_training_arguments.argument_names()
    assert names == sorted(set(names))
    for field in dataclasses.fields(transformers.TrainingArguments):
        if field.init:
            assert field.name in names
    for own in ("max_seq_length", "doc_stride", "train_file", "text_column", "resume"):
        assert own in names


MANAGED_FILE = os.path.join(os.path.dirname(__file__), "..", "..", "src", "run-spec", "trainer-arguments.ts")


def test_every_name_the_trainer_fixes_is_refused_by_the_spec():
    """A name the trainer forces but the spec let through would pass `plan` and fail at the sanity run."""
    import re

    import training_run

    with open(MANAGED_FILE, encoding="utf-8") as f:
        text = f.read()
    block = text[text.index("export const MANAGED_ARGS"):]
    block = block[:block.index("\n};")]
    managed = set(re.findall(r"^  (\w+): ", block, re.M))
    missing = [name for name in training_run.FORCED_TRAINING_ARGUMENTS if name not in managed]
    assert not missing, f"MANAGED_ARGS in src/run-spec/trainer-arguments.ts does not refuse {missing}"
