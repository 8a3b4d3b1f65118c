"""Fine-tune a model for text classification on CPU: one process, or one rank of an `mpirun` job.

Same progress lines, signals, checkpoints, resume and output folder as train_qa.py (training_run.py).
The label set is the training split's distinct labels, sorted, stored in the model's config
(id2label / label2id). With --do_eval: accuracy and macro-F1 (0-100) in OUTPUT_DIR/eval_results.json
and the `done` event, each evaluation row's gold and predicted label in OUTPUT_DIR/eval_predictions.json.
Bad data and a model unfit for classification exit 65 with one `train_cls: ...` line on stderr.
"""

import sys
from dataclasses import dataclass

import cli
import training_run

PROGRAM = "train_cls"
EVAL_FIELDS = ("eval_accuracy", "eval_macro_f1")


@dataclass
class Data:
    labels: list
    train: "cls_data.Split"
    evaluation: "cls_data.Split | None"


def load_data(args) -> Data:
    """Both splits checked: columns and values, two or more training labels, no unseen evaluation label."""
    import cls_data
    import data_files

    columns = cls_data.Columns.from_args(args)
    train_source, eval_source = data_files.split_sources(args, need_validation=args.do_eval)
    train = cls_data.load_split(train_source, columns)
    labels = cls_data.label_set(train, columns)
    evaluation = None
    if eval_source is not None:
        evaluation = cls_data.load_split(eval_source, columns)
        cls_data.check_validation(evaluation, labels, columns)
    return Data(labels, train, evaluation)


@dataclass
class EvalSet:
    rows: list
    features: "cls_data.FeatureDataset"
    labels: list


def load(args, model_path) -> "training_run.Loaded":
    from cls_model import load_cls_model
    from transformers import AutoTokenizer

    data = load_data(args)  # first: the label set sizes the model's head
    revision = {"revision": args.model_revision} if args.model_revision else {}
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer_name, **revision)
    model = load_cls_model(model_path, data.labels, **(revision if model_path == args.model_name_or_path else {}))
    return training_run.Loaded(tokenizer, model, data)


def featurize(args, loaded):
    import cls_data

    tokenizer, data = loaded.tokenizer, loaded.data
    max_len = min(args.max_seq_length, tokenizer.model_max_length)
    eval_set = None
    if data.evaluation is not None:
        eval_set = EvalSet(data.evaluation.rows,
                           cls_data.prepare_features(data.evaluation.rows, tokenizer, max_len, data.labels),
                           data.labels)
    return cls_data.prepare_features(data.train.rows, tokenizer, max_len, data.labels), eval_set


def evaluate(trainer, eval_set: EvalSet) -> "training_run.EvalOutcome":
    """Every rank predicts its share; world process zero scores and writes (as train_qa.py)."""
    import cls_data
    import cls_eval

    output = trainer.predict(eval_set.features, metric_key_prefix="eval")
    if not trainer.is_world_process_zero():
        return training_run.EvalOutcome(output.metrics["eval_loss"], None, None)
    predicted = [eval_set.labels[index] for index in output.predictions.argmax(axis=-1).tolist()]
    golds = [row["label"] for row in eval_set.rows]
    results = cls_eval.scores(golds, predicted)
    id_key, ids = cls_data.example_ids(eval_set.rows)
    return training_run.EvalOutcome(
        output.metrics["eval_loss"],
        cls_eval.predictions_file(ids, golds, predicted, id_key),
        results,
        {"eval_accuracy": results["accuracy"], "eval_macro_f1": results["macro_f1"]},
    )


TASK = training_run.Task(PROGRAM, load, featurize, evaluate, EVAL_FIELDS)


def run(args) -> int:
    return training_run.run(args, TASK)


def main(argv=None) -> int:
    args = cli.parse_args(argv, cli.CLS)
    training_run.offline_if_local(args)
    import data_files
    import qa_model

    try:
        code = run(args)
    except (data_files.DataError, qa_model.ModelError) as error:
        return training_run.exit_refused(PROGRAM, error)
    training_run.shutdown_distributed()
    return code


if __name__ == "__main__":
    sys.exit(main())
