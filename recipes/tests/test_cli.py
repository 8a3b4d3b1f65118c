import pytest

import cli
import training_run

BASE = ["--model_name_or_path", "org/m", "--output_dir", "out"]


@pytest.fixture
def train_file(tmp_path):
    path = tmp_path / "train.json"
    path.write_text("{}")
    return str(path)


@pytest.mark.parametrize("extra,message", [
    ([], "exactly one of --train_file or --dataset_name"),
    (["--dataset_name", "rajpurkar/squad", "--train_file", "TRAIN"], "exactly one of"),
    (["--train_file", "/nonexistent.json"], "no such file"),
    (["--train_file", "TRAIN", "--tokenizer_name", "./missing-tokenizer"], "--tokenizer_name ./missing-tokenizer: no such folder"),
    (["--train_file", "TRAIN", "--do_eval"], "needs --validation_file"),
    (["--train_file", "TRAIN", "--max_steps", "0"], "--max_steps: expected a step count"),
    (["--train_file", "TRAIN", "--learning_rate", "-1"], "--learning_rate: expected a number > 0"),
    (["--train_file", "TRAIN", "--per_device_train_batch_size", "two"], "expected an integer >= 1"),
    (["--train_file", "TRAIN", "--max_seq_length", "64", "--doc_stride", "64"], "--doc_stride must be smaller"),
])
def test_bad_arguments_fail_clearly(capsys, train_file, extra, message):
    argv = BASE + [train_file if arg == "TRAIN" else arg for arg in extra]
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_local_model_folder(capsys, train_file):
    with pytest.raises(SystemExit):
        cli.parse_args(["--model_name_or_path", "/nonexistent/model", "--output_dir", "o", "--train_file", train_file])
    assert "--model_name_or_path /nonexistent/model: no such folder" in capsys.readouterr().err


def test_defaults(train_file):
    args = cli.parse_args(BASE + ["--train_file", train_file])
    assert args.tokenizer_name == "org/m" and args.max_steps == -1 and args.logging_steps == 1
    assert (args.max_seq_length, args.doc_stride, args.save_total_limit) == (384, 128, 2)
    assert not args.resume and not args.bf16 and not cli.is_offline(args)


def test_offline_only_with_local_data_model_and_tokenizer(tmp_path, train_file):
    local = ["--model_name_or_path", str(tmp_path), "--output_dir", "out"]
    assert cli.is_offline(cli.parse_args(local + ["--train_file", train_file]))
    hub = cli.parse_args(local + ["--dataset_name", "rajpurkar/squad", "--bf16", "--do_eval"])
    assert hub.dataset_name == "rajpurkar/squad" and hub.bf16 and not cli.is_offline(hub)
    hub_tokenizer = cli.parse_args(local + ["--train_file", train_file,
                                            "--tokenizer_name", "google-bert/bert-base-uncased"])
    assert not cli.is_offline(hub_tokenizer)


def test_a_hub_dataset_copied_to_the_node_is_read_offline(capsys, tmp_path, train_file):
    local = ["--model_name_or_path", str(tmp_path), "--output_dir", "out", "--dataset_name", "org/sst"]
    args = cli.parse_args(local + ["--dataset_dir", str(tmp_path)])
    assert args.dataset_dir == str(tmp_path) and cli.is_offline(args)
    for extra, message in [
        (["--dataset_dir", str(tmp_path / "missing")], "--dataset_dir " + str(tmp_path / "missing") + ": no such directory"),
        (["--dataset_dir", str(tmp_path), "--dataset_revision", "main"], "give one of --dataset_dir or --dataset_revision"),
    ]:
        with pytest.raises(SystemExit):
            cli.parse_args(local + extra)
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.parse_args(BASE + ["--train_file", str(train_file), "--dataset_dir", str(tmp_path)])
    assert "--dataset_dir goes with --dataset_name" in capsys.readouterr().err


@pytest.mark.parametrize("flag,value,message", [
    ("--dataset_name", "squad", "--dataset_name squad: neither a local folder nor a hub id of the form "
                                "'namespace/name' (use rajpurkar/squad)"),
    ("--model_name_or_path", "distilbert-base-uncased", "(use distilbert/distilbert-base-uncased)"),
    ("--tokenizer_name", "bert-base-uncased", "(use google-bert/bert-base-uncased)"),
    ("--model_name_or_path", "my-model", "--model_name_or_path my-model: neither a local folder nor a hub id "
                                         "of the form 'namespace/name' (e.g. distilbert/distilbert-base-uncased)"),
    ("--dataset_name", "a/b/c", "(e.g. rajpurkar/squad)"),
])
def test_single_segment_hub_ids_are_refused_with_the_corrected_id(capsys, train_file, flag, value, message):
    data = [] if flag == "--dataset_name" else ["--train_file", train_file]
    with pytest.raises(SystemExit):
        cli.parse_args(BASE + data + [flag, value])
    assert message in capsys.readouterr().err


def test_local_folders_pass_as_any_id(tmp_path):
    args = cli.parse_args(["--model_name_or_path", str(tmp_path), "--output_dir", "out",
                           "--dataset_name", str(tmp_path)])
    assert args.dataset_name == str(tmp_path) and args.tokenizer_name == str(tmp_path)


@pytest.mark.parametrize("extra,message", [
    (["--dataset_config_name", "plain"], "--dataset_config_name goes with --dataset_name"),
    (["--dataset_revision", "main"], "--dataset_revision goes with --dataset_name"),
    (["--train_split", "train; rm -rf /"], "--train_split 'train; rm -rf /': expected a split name"),
    (["--validation_split", "../x"], "--validation_split '../x': expected a split name"),
    (["--model_revision", "../../etc"], "--model_revision '../../etc': expected letters"),
    (["--text_column", "a\nb"], "--text_column 'a\\nb': expected a column name"),
    (["--label_column", "text"], "must name different columns"),
])
def test_bad_source_and_column_arguments_fail_clearly(capsys, train_file, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(BASE + ["--train_file", train_file] + extra, cli.CLS)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_classification_arguments_and_hub_options(tmp_path):
    args = cli.parse_args(BASE + ["--dataset_name", "stanfordnlp/sst2", "--dataset_config_name", "default",
                                  "--dataset_revision", "refs/convert/parquet", "--train_split", "train[:10%]",
                                  "--validation_split", "validation", "--text_column", "sentence",
                                  "--text_pair_column", "second", "--model_revision", "v1.0"], cli.CLS)
    assert (args.text_column, args.text_pair_column, args.label_column) == ("sentence", "second", "label")
    assert (args.train_split, args.dataset_revision, args.model_revision) == ("train[:10%]", "refs/convert/parquet",
                                                                              "v1.0")
    assert args.max_seq_length == 128 and not hasattr(args, "doc_stride")
    (tmp_path / "t.csv").write_text("text,label\n")
    local = cli.parse_args(BASE + ["--train_file", str(tmp_path / "t.csv")], cli.CLS)
    assert local.text_pair_column is None and local.train_file.endswith("t.csv")


def test_a_data_file_of_another_type_is_refused(capsys, tmp_path):
    (tmp_path / "train.tsv").write_text("")
    with pytest.raises(SystemExit):
        cli.parse_args(BASE + ["--train_file", str(tmp_path / "train.tsv")])
    assert "expected a .jsonl, .json or .csv file" in capsys.readouterr().err


def test_task_defaults_are_hugging_faces_examples(train_file):
    qa = cli.parse_args(BASE + ["--train_file", train_file])
    cls = cli.parse_args(BASE + ["--train_file", train_file], cli.CLS)
    assert (qa.learning_rate, qa.max_seq_length, qa.doc_stride) == (3e-5, 384, 128)  # run_qa
    assert (cls.learning_rate, cls.max_seq_length) == (2e-5, 128)  # run_glue
    assert qa.training_arguments == {} and cls.training_arguments == {}


def test_any_training_arguments_field_reaches_the_trainer(train_file, tmp_path):
    argv = BASE[:-1] + [str(tmp_path / "out"), "--train_file", train_file, "--learning_rate", "1e-4",
                        "--lr_scheduler_type", "cosine", "--optim=sgd", "--adam_beta2", "0.98",
                        "--logging_first_step", "--dataloader_drop_last=false", "--per-device-eval-batch-size", "3",
                        "--no_dataloader_pin_memory", "--max_grad_norm=0", "--label_smoothing_factor", "0.1",
                        "--eval_steps", "-1"]
    args = cli.parse_args(argv, cli.CLS)
    assert set(args.training_arguments) == {
        "lr_scheduler_type", "optim", "adam_beta2", "logging_first_step", "dataloader_drop_last",
        "per_device_eval_batch_size", "dataloader_pin_memory", "max_grad_norm", "label_smoothing_factor", "eval_steps"}
    built = training_run.build_training_args(args)
    assert (built.lr_scheduler_type, built.optim) == ("cosine", "sgd")
    assert (built.adam_beta2, built.max_grad_norm, built.label_smoothing_factor) == (0.98, 0.0, 0.1)
    assert built.logging_first_step is True and built.dataloader_drop_last is False
    assert built.dataloader_pin_memory is False and built.per_device_eval_batch_size == 3
    # The script's own arguments and the forced values are still there.
    assert built.learning_rate == 1e-4 and built.output_dir == str(tmp_path / "out")
    assert built.use_cpu and built.report_to == [] and not built.average_tokens_across_devices
    assert built.per_device_train_batch_size == 8 and built.eval_strategy == "no" and built.disable_tqdm


@pytest.mark.parametrize("name", [n for n in training_run.FORCED_TRAINING_ARGUMENTS
                                  if n not in ("output_dir", "do_eval")])  # those two are the script's own
def test_every_forced_name_is_refused_in_each_form(capsys, train_file, name):
    for words in (["--" + name + "=x"], ["--" + name.replace("_", "-"), "x"]):
        with pytest.raises(SystemExit):
            cli.parse_args(BASE + ["--train_file", train_file] + words)
        assert f"the trainer sets {name} itself" in capsys.readouterr().err


def test_the_forced_names_are_training_arguments_fields():
    import dataclasses

    from transformers import TrainingArguments

    fields = {field.name for field in dataclasses.fields(TrainingArguments)}
    assert set(training_run.FORCED_TRAINING_ARGUMENTS) <= fields


@pytest.mark.parametrize("extra,message", [
    (["--report_to", "wandb"], "--report_to: the trainer sets report_to itself"),
    (["--use_cpu=false"], "--use_cpu: the trainer sets use_cpu itself"),
    (["--average-tokens-across-devices"], "the trainer sets average_tokens_across_devices itself"),
    (["--save_strategy", "epoch"], "the trainer sets save_strategy itself"),
    (["--resume_from_checkpoint", "x"], "the trainer sets resume_from_checkpoint itself"),
    (["--learning_rat", "1e-4"], "unrecognized argument --learning_rat: neither an argument of this script nor a "
                                 "transformers.TrainingArguments field (did you mean --learning_rate?)"),
    (["--lr_scheduler", "cosine"], "(did you mean --lr_scheduler_type?)"),
    (["--no_such_thing"], "unrecognized argument --no_such_thing"),
    (["--adam_beta2", "high"], "argument --adam_beta2/--adam-beta2: invalid float value: 'high'"),
    (["--optim", "nonsense"], "argument --optim: invalid choice"),
    (["--optim", "sgd", "stray"], "unrecognized arguments: stray"),
])
def test_forced_unknown_and_bad_training_arguments_are_refused(capsys, train_file, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.parse_args(BASE + ["--train_file", train_file] + extra, cli.CLS)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage: " in err
