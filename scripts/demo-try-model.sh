#!/usr/bin/env bash
# The demo's last step: the pulled model does its own task on one validation row. A question-answering model
# answers a question; a classifier labels a row and shows gold vs predicted. Reads `tuneforge plan --json`.
# Usage: demo-try-model.sh PLAN_JSON MODEL_DIR
set -euo pipefail
plan=$1
model=$2
python=.tools/recipe-venv/bin/python

# One line each: task, preset (or -), validation (a preset's asset, a path, or words), then the trainer's
# --max_seq_length and --doc_stride, and the column arguments (a word per line) as the run used them.
mapfile -t facts < <(node -e '
  const plan = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const args = plan.trainerArgs;
  const flag = (name) => { const i = args.indexOf(name); return i < 0 ? "" : args[i + 1]; };
  const columns = ["--text_column", "--text_pair_column", "--label_column"].flatMap((c) => (flag(c) ? [c, flag(c)] : []));
  console.log([plan.task, plan.preset ?? "-", plan.inputs.validation, flag("--max_seq_length"), flag("--doc_stride"), ...columns].join("\n"));
' "$plan")
task=${facts[0]} preset=${facts[1]} validation=${facts[2]} max_len=${facts[3]} stride=${facts[4]}
columns=("${facts[@]:5}")

if [[ $validation == "preset asset "* ]]; then
  "$python" "recipes/$preset/make_assets.py" --out .state/demo-assets > /dev/null
  eval_file=.state/demo-assets/${validation#preset asset }
elif [[ $validation == /* ]]; then
  eval_file=$validation
else
  echo "The model is in $model (its validation data, $validation, is not a local file to try it on)."
  exit 0
fi

if [ "$task" = question-answering ]; then
  echo "The pulled model (from_pretrained($model)) answers a question of the validation set:"
  HF_HUB_OFFLINE=1 "$python" recipes/common/answer.py --model "$model" --eval_file "$eval_file" --index 0 \
    --max_seq_length "$max_len" --doc_stride "$stride" | sed 's/^/  /'
else
  echo "The pulled classifier (from_pretrained($model)) labels a row of the validation set:"
  HF_HUB_OFFLINE=1 "$python" recipes/common/classify.py --model "$model" --eval_file "$eval_file" --index 0 \
    --max_seq_length "$max_len" "${columns[@]}" | sed 's/^/  /'
fi
