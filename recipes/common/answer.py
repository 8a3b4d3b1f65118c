"""Answer one evaluation question with a trained model, offline (the demo's last step).

Usage: answer.py --model DIR --eval_file EVAL_JSON [--index 0] [--max_seq_length 384] [--doc_stride 128]

DIR is a save_pretrained folder holding the model and its tokenizer (train_qa.py's OUTPUT_DIR/model).
Prints three lines: the question, the model's answer (same post-processing as train_qa's evaluation)
and the gold answers joined with " | ".
"""

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="folder with the model and tokenizer")
    parser.add_argument("--eval_file", required=True, help="SQuAD-style JSON: {\"data\": [rows]}")
    parser.add_argument("--index", type=int, default=0, help="which row of the file to answer")
    parser.add_argument("--max_seq_length", type=int, default=384)
    parser.add_argument("--doc_stride", type=int, default=128)
    args = parser.parse_args(argv)
    if not os.path.isdir(args.model):
        parser.error(f"--model {args.model}: no such folder")
    if args.doc_stride >= args.max_seq_length:
        parser.error("--doc_stride must be smaller than --max_seq_length")
    return args


def answer(args) -> list[str]:
    import qa_data

    rows = qa_data.load_json_rows(args.eval_file)
    if not 0 <= args.index < len(rows):
        raise qa_data.DataError(f"--index {args.index}: {args.eval_file} has rows 0 to {len(rows) - 1}")
    row = rows[args.index]

    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    import qa_eval
    from qa_model import load_qa_model

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = load_qa_model(args.model, require_trained_head=True)
    max_len = min(args.max_seq_length, tokenizer.model_max_length)
    predicted = qa_eval.predict_answers(model, tokenizer, [row], max_len, args.doc_stride)[row["id"]]
    return [
        f"Question: {row['question']}",
        f"Answer:   {predicted}",
        f"Expected: {' | '.join(row['answers']['text'])}",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never download
    import qa_data
    import qa_model

    try:
        lines = answer(args)
    except (qa_data.DataError, qa_model.ModelError) as error:
        sys.exit(f"answer: {error}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
