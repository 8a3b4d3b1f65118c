"""Real (tiny) training runs of train_qa.py in a subprocess, as the orchestrator runs it."""

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

import make_assets
from checkpoints import is_complete_checkpoint, newest_complete_checkpoint
from conftest import TRAIN_QA
from progress import parse_line
from schema_check import assert_conforms

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
MODEL_FILES = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]


def command(assets, out, *extra):
    return [
        sys.executable, TRAIN_QA,
        "--model_name_or_path", str(assets / "model"), "--tokenizer_name", str(assets / "tokenizer"),
        "--train_file", str(assets / "data" / "train.json"),
        "--validation_file", str(assets / "data" / "eval.json"),
        "--output_dir", str(out), "--max_seq_length", "64", "--doc_stride", "24",
        "--per_device_train_batch_size", "8", "--learning_rate", "3e-3", "--seed", "0", *extra,
    ]


def run_events(argv):
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = proc.stdout.splitlines()
    events = [parse_line(line) for line in lines]
    assert None not in events, f"stdout holds non-progress lines: {lines}"
    for event in events:
        assert_conforms(event)
    return events


def by_kind(events, kind):
    return [event for event in events if event["event"] == kind]


@pytest.fixture(scope="module")
def first_run(assets, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    # --resume with nothing to resume from starts fresh.
    argv = command(assets, out, "--max_steps", "12", "--save_steps", "5", "--do_eval", "--resume")
    return out, run_events(argv)


def test_progress_lines(first_run):
    out, events = first_run
    assert events[0] == {"event": "start", "world_size": 1, "max_steps": 12,
                         "resumed_from": None, "resumed_step": 0,
                         "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1}
    steps = by_kind(events, "step")
    assert [event["step"] for event in steps] == list(range(1, 13))
    for event in steps:
        assert set(event) == {"event", "step", "max_steps", "loss", "epoch", "learning_rate"}
        assert isinstance(event["loss"], float) and event["max_steps"] == 12
        assert event["epoch"] > 0 and event["learning_rate"] > 0
    assert [(e["step"], e["path"]) for e in by_kind(events, "checkpoint")] == [
        (step, str(out / f"checkpoint-{step}")) for step in (5, 10, 12)]
    done = events[-1]
    assert done["event"] == "done" and done["global_step"] == 12 and done["output_dir"] == str(out)
    assert done["first_loss"] == steps[0]["loss"] and done["final_loss"] == steps[-1]["loss"]
    assert done["final_loss"] < done["first_loss"]
    assert isinstance(done["eval_loss"], float) and done["train_runtime"] > 0
    assert isinstance(done["eval_exact_match"], float) and isinstance(done["eval_f1"], float)
    assert done["eval_f1"] >= done["eval_exact_match"] and done["eval_samples"] == make_assets.N_EVAL
    assert done["model_dir"] == str(out / "model")
    assert done["train_steps_per_second"] == pytest.approx(12 / done["train_runtime"], rel=0.01)
    assert done["steady_samples_per_second"] > 0
    assert done["train_samples_per_second"] == pytest.approx(12 * 8 / done["train_runtime"], rel=0.01)


def test_checkpoints_on_disk(first_run):
    out, _ = first_run
    assert newest_complete_checkpoint(str(out)) == str(out / "checkpoint-12")
    assert sorted(name for name in os.listdir(out) if name.startswith("checkpoint-")) == [
        "checkpoint-10", "checkpoint-12"]  # save_total_limit 2
    assert sorted(os.listdir(out / "model")) == MODEL_FILES
    assert not os.path.exists(out / "model.safetensors")


def test_eval_files_match_the_done_event(assets, first_run):
    out, events = first_run
    with open(out / "eval_results.json", encoding="utf-8") as handle:
        results = json.load(handle)
    with open(out / "eval_predictions.json", encoding="utf-8") as handle:
        predictions = json.load(handle)
    done = events[-1]
    assert results == {"exact_match": done["eval_exact_match"], "f1": done["eval_f1"],
                       "eval_samples": done["eval_samples"]}
    with open(assets / "data" / "eval.json", encoding="utf-8") as handle:
        rows = json.load(handle)["data"]
    assert set(predictions) == {row["id"] for row in rows}
    assert all(isinstance(text, str) for text in predictions.values())
    # The files come after the model (the done event after both): their mtimes say the order.
    model_mtime = max(os.stat(out / "model" / name).st_mtime_ns for name in MODEL_FILES)
    assert os.stat(out / "eval_predictions.json").st_mtime_ns >= model_mtime


def test_resume_skips_incomplete_newest_checkpoint(assets, first_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first_run[0], out)
    os.remove(out / "checkpoint-12" / "optimizer.pt")  # as if the process died while saving
    events = run_events(command(assets, out, "--max_steps", "16", "--save_steps", "5", "--resume"))
    assert events[0] == {"event": "start", "world_size": 1, "max_steps": 16,
                         "resumed_from": str(out / "checkpoint-10"), "resumed_step": 10,
                         "per_device_train_batch_size": 8, "gradient_accumulation_steps": 1}
    assert [event["step"] for event in by_kind(events, "step")] == list(range(11, 17))
    assert events[-1]["event"] == "done" and events[-1]["global_step"] == 16
    eval_keys = ("eval_loss", "eval_exact_match", "eval_f1", "eval_samples")
    assert all(events[-1][key] is None for key in eval_keys)
    assert sorted(os.listdir(out / "model")) == MODEL_FILES
    # The copied run's evaluation files described another model: gone.
    assert not os.path.exists(out / "eval_results.json") and not os.path.exists(out / "eval_predictions.json")
    # Rates count only the steps this run did (Trainer's own would count all 16).
    assert events[-1]["train_steps_per_second"] == pytest.approx(6 / events[-1]["train_runtime"], rel=0.01)
    assert newest_complete_checkpoint(str(out)) == str(out / "checkpoint-16")


def read_events(proc, sink, log):
    for line in proc.stdout:
        event = parse_line(line)
        log.append(event)
        if event is not None:
            sink.put(event)
    sink.put(None)


def watch(proc):
    sink, log = queue.Queue(), []
    threading.Thread(target=read_events, args=(proc, sink, log), daemon=True).start()
    return sink, log


def assert_single_writer(log):
    """Progress lines come from one process: each step and checkpoint once, in order."""
    assert None not in log, "stdout holds non-progress lines"
    for event in log:
        assert_conforms(event)
    assert len(by_kind(log, "start")) == 1
    for kind in ("step", "checkpoint"):
        steps = [event["step"] for event in by_kind(log, kind)]
        assert steps == sorted(set(steps))


def wait_for(sink, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            event = sink.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        assert event is not None, f"process ended before the expected event; saw {seen[-5:]}"
        seen.append(event)
        if predicate(event):
            return event
    raise AssertionError(f"timed out; last events {seen[-5:]}")


def test_sigusr2_finishes_early_with_a_model_and_a_done_event(assets, tmp_path):
    out = tmp_path / "out"
    argv = command(assets, out, "--max_steps", "3000", "--save_steps", "1000")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    sink, log = watch(proc)
    try:
        wait_for(sink, lambda e: e["event"] == "step")
        proc.send_signal(signal.SIGUSR2)
        final = wait_for(sink, lambda e: e["event"] == "checkpoint")
        done = wait_for(sink, lambda e: e["event"] not in ("step", "checkpoint"))
        assert done["event"] == "done" and done["finished_early"] is True
        assert done["global_step"] == final["step"] < 1000 and is_complete_checkpoint(final["path"])
        assert os.path.isfile(os.path.join(done["model_dir"], "config.json"))
        assert proc.wait(timeout=60) == 0
        assert_single_writer(log)
    finally:
        proc.kill()
        proc.wait()


def test_sigusr1_saves_and_continues_sigterm_saves_and_stops(assets, tmp_path):
    out = tmp_path / "out"
    argv = command(assets, out, "--max_steps", "3000", "--save_steps", "1000")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    sink, log = watch(proc)
    try:
        first = wait_for(sink, lambda e: e["event"] == "step")
        proc.send_signal(signal.SIGUSR1)
        saved = wait_for(sink, lambda e: e["event"] == "checkpoint")
        assert first["step"] <= saved["step"] < 1000 and is_complete_checkpoint(saved["path"])
        later = wait_for(sink, lambda e: e["event"] == "step")
        assert later["step"] == saved["step"] + 1  # kept training
        proc.send_signal(signal.SIGTERM)
        final = wait_for(sink, lambda e: e["event"] == "checkpoint")
        stopped = wait_for(sink, lambda e: e["event"] != "step")
        assert stopped == {"event": "stopped", "step": final["step"]}
        assert final["step"] < 1000 and is_complete_checkpoint(final["path"])
        assert proc.wait(timeout=60) == 0
        assert sink.get(timeout=5) is None  # nothing after "stopped"
        assert_single_writer(log)
    finally:
        proc.kill()
        proc.wait()


def free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def python_ranks(launcher_pid):
    import psutil

    ranks = [p for p in psutil.Process(launcher_pid).children(recursive=True) if TRAIN_QA in p.cmdline()]
    return sorted(ranks, key=lambda p: int(p.environ()["OMPI_COMM_WORLD_RANK"]))


def run_ranks(ranks: int, argv: list, timeout: int = 180) -> str:
    """stdout of `argv` as one plain process (ranks == 1) or on `ranks` local Open MPI ranks (rendezvous on a
    free loopback port); asserts exit 0."""
    env = ENV
    if ranks > 1:
        env = {**ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
               "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
        forward = [arg for name in ("MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS", "HF_HUB_OFFLINE")
                   for arg in ("-x", name)]
        argv = ["mpirun.openmpi", "--oversubscribe", "-np", str(ranks), *forward, *argv]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        kill_tree(proc)
    assert proc.returncode == 0, stderr[-3000:]
    return stdout


def kill_tree(proc):
    import psutil

    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    for child in children:  # ranks outlive a SIGKILLed mpirun
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    proc.kill()
    proc.wait()


@pytest.mark.skipif(shutil.which("mpirun.openmpi") is None, reason="Open MPI is not installed")
def test_mpirun_two_ranks_agree_on_signals(assets, tmp_path):
    out = tmp_path / "out"
    env = {**ENV, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    forward = [arg for name in ("MASTER_ADDR", "MASTER_PORT", "OMP_NUM_THREADS", "HF_HUB_OFFLINE")
               for arg in ("-x", name)]
    argv = ["mpirun.openmpi", "--oversubscribe", "-np", "2", *forward,
            *command(assets, out, "--max_steps", "3000", "--save_steps", "1000")]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    sink, log = watch(proc)
    try:
        start = wait_for(sink, lambda e: e["event"] == "start")
        assert start["world_size"] == 2
        wait_for(sink, lambda e: e["event"] == "step")
        ranks = python_ranks(proc.pid)
        assert len(ranks) == 2
        ranks[1].send_signal(signal.SIGUSR1)  # one rank only: the ranks must still agree
        saved = wait_for(sink, lambda e: e["event"] == "checkpoint")
        for rank in ranks:
            rank.send_signal(signal.SIGTERM)
        final = wait_for(sink, lambda e: e["event"] == "checkpoint")
        assert wait_for(sink, lambda e: e["event"] != "step") == {"event": "stopped", "step": final["step"]}
        assert proc.wait(timeout=60) == 0
        assert sink.get(timeout=5) is None
        assert_single_writer(log)
    finally:
        kill_tree(proc)
    for step in (saved["step"], final["step"]):
        files = os.listdir(out / f"checkpoint-{step}")
        assert is_complete_checkpoint(str(out / f"checkpoint-{step}"))
        assert {"rng_state_0.pth", "rng_state_1.pth"} <= set(files)


def test_resume_from_final_checkpoint_trains_nothing(assets, first_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first_run[0], out)
    events = run_events(command(assets, out, "--max_steps", "12", "--save_steps", "5", "--resume", "--do_eval"))
    assert [event["event"] for event in events] == ["start", "done"]
    assert events[0]["resumed_step"] == 12 and events[1]["global_step"] == 12
    first_done = first_run[1][-1]
    for key in ("eval_loss", "eval_exact_match", "eval_f1"):
        assert events[1][key] == pytest.approx(first_done[key])
    assert events[1]["eval_samples"] == first_done["eval_samples"]
    assert not os.path.exists(out / "checkpoint-13")
    assert sorted(os.listdir(out / "model")) == MODEL_FILES
    assert json.loads((out / "eval_results.json").read_text())["f1"] == pytest.approx(first_done["eval_f1"])
