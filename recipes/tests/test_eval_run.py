"""The demo's training and evaluation on the tiny assets, answer.py, and bad input to train_qa.py."""

import json
import os
import subprocess
import sys

import pytest

import qa_eval
from conftest import COMMON
from test_train import ENV, command, run_events

ANSWER = os.path.join(COMMON, "answer.py")
# The demo spec: 40 steps, global batch 24 (3 single-rank nodes x 8; here one process x 24), the
# tiny-qa recipe's defaults (learning rate 3e-3, sequence 96, stride 32) and the spec's seed 42.
DEMO = ["--max_steps", "40", "--per_device_train_batch_size", "24", "--max_seq_length", "96",
        "--doc_stride", "32", "--learning_rate", "3e-3", "--seed", "42", "--save_steps", "40", "--do_eval"]


@pytest.fixture(scope="module")
def demo_run(assets, tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    return out, run_events(command(assets, out, *DEMO))[-1]


def test_training_beats_the_untrained_model(assets, demo_run):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    import qa_data

    rows = qa_data.load_json_rows(str(assets / "data" / "eval.json"))
    untrained = qa_eval.squad_scores(
        qa_eval.predict_answers(AutoModelForQuestionAnswering.from_pretrained(assets / "model"),
                                AutoTokenizer.from_pretrained(assets / "tokenizer"), rows, 96, 32),
        qa_eval.references(rows))
    done = demo_run[1]
    print(f"tiny-qa eval F1: untrained {untrained['f1']:.1f}, after 40 steps {done['eval_f1']:.1f} "
          f"(EM {untrained['exact_match']:.1f} -> {done['eval_exact_match']:.1f})")
    # Measured: F1 18.4 -> 65.3 (EM 9.4 -> 64.1).
    assert done["eval_f1"] > untrained["f1"] + 30
    assert done["eval_samples"] == len(rows)


def answer_lines(*args):
    proc = subprocess.run([sys.executable, ANSWER, *args], capture_output=True, text=True, timeout=60, env=ENV)
    return proc.returncode, proc.stdout.splitlines(), proc.stderr.strip().splitlines()


def test_answer_prints_question_answer_and_expected(assets, demo_run):
    out, _ = demo_run
    eval_file = assets / "data" / "eval.json"
    code, lines, _ = answer_lines("--model", str(out / "model"), "--eval_file", str(eval_file), "--index", "5")
    row = json.loads(eval_file.read_text())["data"][5]
    predictions = json.loads((out / "eval_predictions.json").read_text())
    assert code == 0
    # Same model, same post-processing: the answer the evaluation scored.
    assert lines == [f"Question: {row['question']}", f"Answer:   {predictions[row['id']]}",
                     f"Expected: {' | '.join(row['answers']['text'])}"]


def test_answer_refuses_a_bad_index_and_a_model_without_a_trained_head(assets, demo_run, tmp_path):
    from transformers import DistilBertConfig, DistilBertModel

    eval_file = str(assets / "data" / "eval.json")
    code, lines, errors = answer_lines("--model", str(demo_run[0] / "model"), "--eval_file", eval_file,
                                       "--index", "64")
    assert code == 1 and lines == [] and errors[-1] == f"answer: --index 64: {eval_file} has rows 0 to 63"
    DistilBertModel(DistilBertConfig(vocab_size=300, dim=8, hidden_dim=16, n_layers=1, n_heads=2)).save_pretrained(
        tmp_path / "base")
    code, lines, errors = answer_lines("--model", str(tmp_path / "base"), "--eval_file", eval_file)
    assert code == 1 and lines == []
    assert errors[-1].startswith(f"answer: {tmp_path / 'base'}: the checkpoint has no trained question-answering")


def failure(argv):
    """The last stderr line of a train_qa run that must fail, after checking it printed no event."""
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode != 0 and proc.stdout == ""
    return proc.stderr.strip().splitlines()[-1]


def test_eval_rows_without_answers_fail_before_training(assets, tmp_path):
    rows = json.loads((assets / "data" / "eval.json").read_text())["data"]
    for row in rows[:3]:
        row["answers"] = {"text": [], "answer_start": []}
    bad = tmp_path / "eval.json"
    bad.write_text(json.dumps({"data": rows}))
    argv = command(assets, tmp_path / "out", "--max_steps", "2", "--do_eval")
    argv[argv.index("--validation_file") + 1] = str(bad)
    assert failure(argv) == (f"train_qa: {bad}: 3 of 64 evaluation rows have no answer (first: 'tiny-eval-0000'); "
                             "SQuAD v1 scoring needs a gold answer in every row")


def test_a_model_type_without_a_qa_head_is_refused(assets, tmp_path):
    from transformers import ViTConfig

    ViTConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8).save_pretrained(
        tmp_path / "vit")
    argv = command(assets, tmp_path / "out", "--max_steps", "2")
    argv[argv.index("--model_name_or_path") + 1] = str(tmp_path / "vit")
    assert failure(argv).startswith(f"train_qa: {tmp_path / 'vit'}: transformers has no question-answering head "
                                    "for 'vit' models")


def test_mismatched_prediction_ids_exit_with_a_train_qa_message(assets, tmp_path, monkeypatch):
    import train_qa

    monkeypatch.setattr(train_qa, "run", lambda args: qa_eval.squad_scores({"x": "a"}, {"y": ["a"]}))
    with pytest.raises(SystemExit) as exit_info:
        train_qa.main(command(assets, tmp_path / "out")[2:])
    assert str(exit_info.value.code).startswith("train_qa: prediction ids do not match the reference ids")
