"""Same training on 1 or N ranks: one SGD step of the same global batch of 8 on 1 rank (batch 8), on 2 mpirun
ranks (batch 4 each) and with 2 accumulated batches of 4 logs the same loss and leaves the same weights.

transformers 5.18 multiplies a rank's loss by the number of ranks, and skips dividing it by the accumulation
steps, for a model whose forward takes **kwargs (training_run.mean_loss_model undoes that). Plain SGD without
momentum, weight decay or clipping shows a scaled gradient as a scaled step; Adam would divide it out. The
models have no dropout (tiny-cls has none; tiny-qa's config is copied with dropout 0) and the training file
holds exactly one global batch, so every run sees the same 8 rows once.
"""

import json
import math
import os
import shutil
import sys

import pytest

from conftest import TRAIN_CLS, TRAIN_QA
from test_train import run_ranks
from progress import parse_line

HERE = os.path.dirname(os.path.abspath(__file__))
# Trains as the product did before the fix (see the module); for the canary below.
UNFIXED = os.path.join(HERE, "unfixed_loss_trainer.py")
QA_SEQ = 96
SGD = ["--max_steps", "1", "--optim", "sgd", "--learning_rate", "1.0", "--lr_scheduler_type", "constant",
       "--max_grad_norm", "0", "--weight_decay", "0", "--seed", "0", "--save_steps", "1"]
NEEDS_MPI = pytest.mark.skipif(shutil.which("mpirun.openmpi") is None, reason="Open MPI is not installed")


def no_dropout_copy(model_dir, out):
    shutil.copytree(model_dir, out)
    config = json.loads((out / "config.json").read_text())
    for key in ("dropout", "attention_dropout", "seq_classif_dropout", "qa_dropout"):
        config[key] = 0.0
    (out / "config.json").write_text(json.dumps(config))
    return out


@pytest.fixture(scope="module")
def cls_case(cls_assets, tmp_path_factory):
    """(script, fixed arguments, model folder, class count) for one batch of 8 tiny-cls rows."""
    root = tmp_path_factory.mktemp("cls-ranks")
    lines = (cls_assets / "data" / "train.csv").read_text().splitlines()
    (root / "train.csv").write_text("\n".join(lines[:9]) + "\n")  # header + 8 rows
    model = no_dropout_copy(cls_assets / "model", root / "model")
    args = ["--model_name_or_path", str(model), "--tokenizer_name", str(cls_assets / "tokenizer"),
            "--train_file", str(root / "train.csv"), "--max_seq_length", "64"]
    classes = len({line.rsplit(",", 1)[1] for line in lines[1:9]})
    return TRAIN_CLS, args, model, classes


@pytest.fixture(scope="module")
def qa_case(assets, tmp_path_factory):
    """(script, fixed arguments, model folder, sequence length) for 8 tiny-qa rows of one window each."""
    import qa_data
    from transformers import AutoTokenizer

    root = tmp_path_factory.mktemp("qa-ranks")
    rows = json.loads((assets / "data" / "train.json").read_text())
    rows = (rows["data"] if isinstance(rows, dict) else rows)[:8]
    (root / "train.json").write_text(json.dumps(rows))
    tokenizer = AutoTokenizer.from_pretrained(assets / "tokenizer")
    assert len(qa_data.prepare_features(rows, tokenizer, QA_SEQ, 32)) == 8  # one global batch exactly
    model = no_dropout_copy(assets / "model", root / "model")
    args = ["--model_name_or_path", str(model), "--tokenizer_name", str(assets / "tokenizer"),
            "--train_file", str(root / "train.json"), "--max_seq_length", str(QA_SEQ), "--doc_stride", "32"]
    return TRAIN_QA, args, model, QA_SEQ


def train_one_step(case, out, ranks=1, batch=8, extra=(), script=None):
    """(first logged loss, trained weights) of one step."""
    from safetensors.torch import load_file

    program, args, _, _ = case
    argv = [sys.executable, *([script, os.path.basename(program)[:-3]] if script else [program]), *args,
            "--output_dir", str(out), "--per_device_train_batch_size", str(batch), *SGD, *extra]
    stdout = run_ranks(ranks, argv)
    events = [event for event in map(parse_line, stdout.splitlines()) if event]
    assert events[0]["world_size"] == ranks and events[-1]["event"] == "done"
    steps = [event for event in events if event["event"] == "step"]
    assert [event["step"] for event in steps] == [1]
    return steps[0]["loss"], load_file(str(out / "model" / "model.safetensors"))


def step_ratio(case, trained, reference):
    """How far `trained` moved from the initial weights, relative to `reference`'s move, and the largest
    difference between the two moves relative to the largest move (0 when they are the same step)."""
    import torch
    from safetensors.torch import load_file

    initial = load_file(str(case[2] / "model.safetensors"))
    names = [name for name in initial if initial[name].is_floating_point()]
    move = torch.cat([(trained[name] - initial[name]).flatten() for name in names])
    reference_move = torch.cat([(reference[name] - initial[name]).flatten() for name in names])
    assert reference_move.abs().max() > 1e-3, "the step hardly moved the weights: the comparison would be void"
    return (move.norm() / reference_move.norm()).item(), \
        ((move - reference_move).abs().max() / reference_move.abs().max()).item()


@pytest.fixture(scope="module", params=["cls", "qa"])
def case(request):
    return request.getfixturevalue(f"{request.param}_case")


@pytest.fixture(scope="module")
def one_rank(case, tmp_path_factory):
    return train_one_step(case, tmp_path_factory.mktemp("one-rank") / "out")


def test_a_fresh_head_logs_the_chance_loss(case, one_rank):
    # Uniform logits: ln(classes) for classification, ln(sequence length) for answer start and end.
    assert one_rank[0] == pytest.approx(math.log(case[3]), rel=0.03)


@NEEDS_MPI
def test_two_ranks_take_the_same_step_as_one(case, one_rank, tmp_path):
    loss, weights = train_one_step(case, tmp_path / "out", ranks=2, batch=4)
    ratio, difference = step_ratio(case, weights, one_rank[1])
    print(f"{os.path.basename(case[0])}: first loss 1 rank {one_rank[0]:.4f}, 2 ranks {loss:.4f}; "
          f"SGD step 2 ranks / 1 rank {ratio:.5f}, max difference {difference:.2e}")
    assert loss == pytest.approx(one_rank[0], rel=1e-3)
    assert ratio == pytest.approx(1.0, abs=1e-3) and difference < 1e-3


def test_two_accumulated_batches_take_the_same_step_as_one(case, one_rank, tmp_path):
    loss, weights = train_one_step(case, tmp_path / "out", batch=4, extra=["--gradient_accumulation_steps", "2"])
    ratio, difference = step_ratio(case, weights, one_rank[1])
    assert loss == pytest.approx(one_rank[0], rel=1e-3)
    assert ratio == pytest.approx(1.0, abs=1e-3) and difference < 1e-3


@NEEDS_MPI
def test_the_pinned_transformers_still_scales_a_mean_loss_by_the_rank_count(cls_case, tmp_path):
    """The canary: without mean_loss_model (and with average_tokens_across_devices on, its default), 2 ranks
    log twice the loss and take twice the SGD step. When a transformers upgrade changes that, this fails:
    check what Trainer now does with a mean loss and revisit training_run.mean_loss_model."""
    reference = train_one_step(cls_case, tmp_path / "one")
    loss, weights = train_one_step(cls_case, tmp_path / "two", ranks=2, batch=4, script=UNFIXED)
    ratio, _ = step_ratio(cls_case, weights, reference[1])
    assert loss == pytest.approx(2 * reference[0], rel=1e-3)
    assert ratio == pytest.approx(2.0, rel=0.02)
