"""Load a model for extractive QA, refusing architectures that cannot answer questions."""

HEAD_SUFFIXES = {
    "question-answering": "ForQuestionAnswering",
    "text-classification": "ForSequenceClassification",
}


class ModelError(ValueError):
    pass


def other_task_head(config, task: str) -> str | None:
    """The architecture in the checkpoint's config that is trained for another task (a
    ...ForSequenceClassification checkpoint given to QA, or the reverse), else None."""
    for architecture in getattr(config, "architectures", None) or []:
        for other, suffix in HEAD_SUFFIXES.items():
            if other != task and architecture.endswith(suffix):
                return architecture
    return None


def refuse_other_task_head(path: str, config, task: str) -> None:
    architecture = other_task_head(config, task)
    if architecture:
        raise ModelError(f"{path}: the checkpoint is a {architecture} (a model for "
                         f"{'text classification' if task == 'question-answering' else 'question answering'}), "
                         f"not one for {task}; give a base model or a {task} one")


def load_qa_model(path: str, require_trained_head: bool = False, revision: str | None = None):
    """The model with its question-answering head.

    Architectures without a QA class in transformers (e.g. ViT, CLIP) are refused from their config,
    before any weights load, and so is a checkpoint trained for text classification. A base checkpoint
    of a QA-capable architecture (distilbert-base-uncased) gets a freshly initialised head, which is
    right for fine-tuning; `require_trained_head` refuses it where the head must already be trained
    (answering with a finished model).
    """
    from transformers import AutoConfig, AutoModelForQuestionAnswering
    from transformers.models.auto.modeling_auto import MODEL_FOR_QUESTION_ANSWERING_MAPPING

    hub = {"revision": revision} if revision else {}
    config = AutoConfig.from_pretrained(path, **hub)
    if type(config) not in MODEL_FOR_QUESTION_ANSWERING_MAPPING:
        raise ModelError(f"{path}: transformers has no question-answering head for {config.model_type!r} "
                         f"models (AutoModelForQuestionAnswering supports e.g. distilbert, bert, roberta)")
    refuse_other_task_head(path, config, "question-answering")
    model, info = AutoModelForQuestionAnswering.from_pretrained(path, config=config, output_loading_info=True,
                                                                **hub)
    # Weights outside the base model are the task head (qa_outputs.* for most architectures).
    untrained = [key for key in info["missing_keys"] if not key.startswith(f"{model.base_model_prefix}.")]
    if require_trained_head and untrained:
        raise ModelError(f"{path}: the checkpoint has no trained question-answering head "
                         f"(missing {', '.join(sorted(untrained))})")
    return model
