import os

from checkpoints import checkpoint_step, is_complete_checkpoint, newest_complete_checkpoint

COMPLETE = ("trainer_state.json", "optimizer.pt", "scheduler.pt", "model.safetensors")


def make_checkpoint(root, name, files=COMPLETE):
    path = root / name
    path.mkdir()
    for file_name in files:
        (path / file_name).write_text("x")
    return str(path)


def test_missing_output_dir_gives_none(tmp_path):
    assert newest_complete_checkpoint(str(tmp_path / "nope")) is None


def test_empty_output_dir_gives_none(tmp_path):
    assert newest_complete_checkpoint(str(tmp_path)) is None


def test_numeric_not_lexical_order(tmp_path):
    make_checkpoint(tmp_path, "checkpoint-9")
    newest = make_checkpoint(tmp_path, "checkpoint-10")
    make_checkpoint(tmp_path, "checkpoint-2")
    assert newest_complete_checkpoint(str(tmp_path)) == newest


def test_skips_newer_incomplete_folders(tmp_path):
    complete = make_checkpoint(tmp_path, "checkpoint-5")
    make_checkpoint(tmp_path, "checkpoint-10", files=("model.safetensors", "optimizer.pt", "scheduler.pt"))
    make_checkpoint(tmp_path, "checkpoint-15", files=("trainer_state.json", "optimizer.pt", "scheduler.pt"))
    make_checkpoint(tmp_path, "checkpoint-20", files=("trainer_state.json", "model.safetensors", "scheduler.pt"))
    make_checkpoint(tmp_path, "checkpoint-25", files=("trainer_state.json", "rng_state_1.pth"))
    make_checkpoint(tmp_path, "checkpoint-30", files=COMPLETE + ("checkpoint-is-incomplete.txt",))
    assert newest_complete_checkpoint(str(tmp_path)) == complete


def test_pytorch_bin_weights_count_as_complete(tmp_path):
    path = make_checkpoint(tmp_path, "checkpoint-3", files=COMPLETE[:3] + ("pytorch_model.bin",))
    assert is_complete_checkpoint(path)
    assert newest_complete_checkpoint(str(tmp_path)) == path


def test_ignores_other_names_and_files(tmp_path):
    make_checkpoint(tmp_path, "checkpoint-final")
    make_checkpoint(tmp_path, "checkpoint-7.tmp")
    make_checkpoint(tmp_path, "old-checkpoint-99")
    (tmp_path / "checkpoint-50").write_text("a file, not a folder")
    only = make_checkpoint(tmp_path, "checkpoint-1")
    assert newest_complete_checkpoint(str(tmp_path)) == only


def test_checkpoint_step_parses_trailing_slash():
    assert checkpoint_step(os.path.join("run", "checkpoint-120") + os.sep) == 120
    assert checkpoint_step("run/checkpoint-abc") is None
