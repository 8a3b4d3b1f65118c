"""Load a model for text classification with the label set of the training data."""

from qa_model import ModelError, refuse_other_task_head


def load_cls_model(path: str, labels: list, revision: str | None = None):
    """The model with a sequence-classification head for `labels` (id i is labels[i]).

    Refused from the config, before any weights load: architectures without a sequence-classification
    class in transformers, and checkpoints trained for question answering. A head trained for another
    label set (other size) is replaced by a fresh one.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification
    from transformers.models.auto.modeling_auto import MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING

    hub = {"revision": revision} if revision else {}
    config = AutoConfig.from_pretrained(path, **hub)
    if type(config) not in MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING:
        raise ModelError(f"{path}: transformers has no sequence-classification head for {config.model_type!r} "
                         f"models (AutoModelForSequenceClassification supports e.g. distilbert, bert, roberta)")
    refuse_other_task_head(path, config, "text-classification")
    config.num_labels = len(labels)
    config.id2label = {index: str(label) for index, label in enumerate(labels)}
    config.label2id = {str(label): index for index, label in enumerate(labels)}
    config.problem_type = "single_label_classification"
    return AutoModelForSequenceClassification.from_pretrained(path, config=config, ignore_mismatched_sizes=True,
                                                              **hub)
