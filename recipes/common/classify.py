"""Label one validation row with a trained classifier, offline (the demo's last step for text classification).

Usage: classify.py --model DIR --eval_file FILE [--index 0] [--max_seq_length 128]
                   [--text_column text] [--text_pair_column COL] [--label_column label]

DIR is a save_pretrained folder holding the model and its tokenizer (train_cls.py's OUTPUT_DIR/model); its
config's id2label names the labels. FILE is a .csv, .jsonl or .json file of rows. Prints three lines: the
text, the model's label and the gold label.
"""

import argparse
import os
import sys


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="folder with the model and tokenizer")
    parser.add_argument("--eval_file", required=True, help="rows with a text and a label column")
    parser.add_argument("--index", type=int, default=0, help="which row of the file to label")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--text_column", default="text")
    parser.add_argument("--text_pair_column")
    parser.add_argument("--label_column", default="label")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.model):
        parser.error(f"--model {args.model}: no such folder")
    return args


def classify(args) -> list[str]:
    import cls_data
    import data_files

    columns = cls_data.Columns(args.text_column, args.text_pair_column, args.label_column)
    rows = data_files.read_file_rows(args.eval_file)
    if not 0 <= args.index < len(rows):
        raise data_files.DataError(f"--index {args.index}: {args.eval_file} has rows 0 to {len(rows) - 1}")
    row = cls_data.check_row(rows[args.index], args.index, args.eval_file, columns)

    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    encoded = tokenizer(row["text"], row.get("text_pair"), truncation=True,
                        max_length=min(args.max_seq_length, tokenizer.model_max_length), return_tensors="pt")
    with torch.no_grad():
        predicted = int(model(**encoded).logits.argmax(-1)[0])
    text = row["text"] if "text_pair" not in row else f"{row['text']} | {row['text_pair']}"
    return [
        f"Text:      {text}",
        f"Predicted: {model.config.id2label[predicted]}",
        f"Gold:      {row['label']}",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers is imported: never download
    import data_files

    try:
        lines = classify(args)
    except data_files.DataError as error:
        sys.exit(f"classify: {error}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
