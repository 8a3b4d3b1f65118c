"""`python unfixed_loss_trainer.py train_cls|train_qa ARGS...`: the trainer as it was before the loss fix
(Trainer sees the model's **kwargs forward, average_tokens_across_devices on), for test_ranks.py's canary."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))

import training_run  # noqa: E402

_build_training_args = training_run.build_training_args


def _with_average_tokens(args):
    training_args = _build_training_args(args)
    training_args.average_tokens_across_devices = True
    return training_args


training_run.mean_loss_model = lambda model: model
training_run.build_training_args = _with_average_tokens

if __name__ == "__main__":
    program = __import__(sys.argv[1])
    sys.exit(program.main(sys.argv[2:]))
