"""Regenerates golden/progress-lines.jsonl: real progress lines of the tiny-qa and tiny-cls trainers, every event kind.

    .tools/recipe-venv/bin/python recipes/tests/make_golden_progress.py

Three real runs of train_qa.py: a fresh run with checkpoints and evaluation (start, step, checkpoint, done with
scores), a run resumed from its checkpoint without evaluation (start with resumed_from, done with null scores),
a run stopped by SIGTERM (stopped) and one finished early by SIGUSR2 (done with finished_early); then one run of
train_cls.py on the tiny-cls assets with evaluation (done with eval_accuracy / eval_macro_f1). The golden
file keeps one line per distinct shape (event kind, which fields it has, which are null, which are true), in the
order first seen, so the QA lines come first. pytest (test_progress_schema.py) and node:test
(test/progress-schema.test.ts) both read it.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPES = os.path.dirname(HERE)
COMMON = os.path.join(RECIPES, "common")
sys.path[:0] = [HERE, COMMON, os.path.join(RECIPES, "tiny-qa")]
os.environ["HF_HUB_OFFLINE"] = "1"

import make_assets  # noqa: E402
from conftest import tiny_cls_assets_module  # noqa: E402
from progress import PREFIX, parse_line  # noqa: E402

GOLDEN = os.path.join(HERE, "golden", "progress-lines.jsonl")
TRAIN_QA = os.path.join(COMMON, "train_qa.py")
TRAIN_CLS = os.path.join(COMMON, "train_cls.py")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def command(assets, out, *extra):
    return [
        sys.executable, TRAIN_QA,
        "--model_name_or_path", os.path.join(assets, "model"), "--tokenizer_name", os.path.join(assets, "tokenizer"),
        "--train_file", os.path.join(assets, "data", "train.json"),
        "--validation_file", os.path.join(assets, "data", "eval.json"),
        "--output_dir", out, "--max_seq_length", "64", "--doc_stride", "24",
        "--per_device_train_batch_size", "8", "--learning_rate", "3e-3", "--seed", "0", *extra,
    ]


def cls_command(assets, out, *extra):
    return [
        sys.executable, TRAIN_CLS,
        "--model_name_or_path", os.path.join(assets, "model"), "--tokenizer_name", os.path.join(assets, "tokenizer"),
        "--train_file", os.path.join(assets, "data", "train.csv"),
        "--validation_file", os.path.join(assets, "data", "eval.csv"),
        "--output_dir", out, "--max_seq_length", "64", "--per_device_train_batch_size", "8",
        "--learning_rate", "5e-3", "--seed", "0", *extra,
    ]


def progress_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith(PREFIX)]


def run(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=ENV, check=True)
    return progress_lines(proc.stdout)


def run_until_signalled(argv, signum):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    lines = []
    for line in proc.stdout:
        line = line.rstrip("\n")
        if line.startswith(PREFIX):
            lines.append(line)
            if parse_line(line)["event"] == "step" and len(lines) == 3:
                proc.send_signal(signum)
    assert proc.wait(timeout=120) == 0
    return lines


def shape(line):
    event = parse_line(line)
    return (event["event"], tuple(sorted(event)), tuple(sorted(key for key, value in event.items() if value is None)),
            tuple(sorted(key for key, value in event.items() if value is True)))


def main():
    work = tempfile.mkdtemp(prefix="tuneforge-golden-")
    try:
        assets = os.path.join(work, "assets")
        make_assets.make_assets(assets, seed=0)
        out = os.path.join(work, "output")
        lines = run(command(assets, out, "--max_steps", "6", "--save_steps", "3", "--do_eval"))
        lines += run(command(assets, out, "--max_steps", "9", "--save_steps", "3", "--resume"))
        lines += run_until_signalled(command(assets, os.path.join(work, "stopped"), "--max_steps", "3000",
                                             "--save_steps", "1000"), signal.SIGTERM)
        lines += run_until_signalled(command(assets, os.path.join(work, "early"), "--max_steps", "3000",
                                             "--save_steps", "1000"), signal.SIGUSR2)
        cls_assets = os.path.join(work, "cls-assets")
        tiny_cls_assets_module().make_assets(cls_assets, seed=0)
        lines += run(cls_command(cls_assets, os.path.join(work, "cls"), "--max_steps", "6", "--save_steps", "3",
                                 "--do_eval"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    golden, seen = [], set()
    for line in lines:
        if shape(line) not in seen:
            seen.add(shape(line))
            golden.append(line)
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    with open(GOLDEN, "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in golden))
    print(f"{len(golden)} lines ({', '.join(sorted({s[0] for s in seen}))}) -> {GOLDEN}")


if __name__ == "__main__":
    main()
