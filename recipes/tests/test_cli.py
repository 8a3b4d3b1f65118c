import pytest

import cli

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
