"""Load a model for extractive QA, refusing architectures that cannot answer questions."""


class ModelError(ValueError):
    pass


def load_qa_model(path: str, require_trained_head: bool = False):
    """The model with its question-answering head.

    Architectures without a QA class in transformers (e.g. ViT, CLIP) are refused from their config,
    before any weights load. A base checkpoint of a QA-capable architecture (distilbert-base-uncased)
    gets a freshly initialised head, which is right for fine-tuning; `require_trained_head` refuses
    it where the head must already be trained (answering with a finished model).
    """
    from transformers import AutoConfig, AutoModelForQuestionAnswering
    from transformers.models.auto.modeling_auto import MODEL_FOR_QUESTION_ANSWERING_MAPPING

    config = AutoConfig.from_pretrained(path)
    if type(config) not in MODEL_FOR_QUESTION_ANSWERING_MAPPING:
        raise ModelError(f"{path}: transformers has no question-answering head for {config.model_type!r} "
                         f"models (AutoModelForQuestionAnswering supports e.g. distilbert, bert, roberta)")
    model, info = AutoModelForQuestionAnswering.from_pretrained(path, config=config, output_loading_info=True)
    # Weights outside the base model are the task head (qa_outputs.* for most architectures).
    untrained = [key for key in info["missing_keys"] if not key.startswith(f"{model.base_model_prefix}.")]
    if require_trained_head and untrained:
        raise ModelError(f"{path}: the checkpoint has no trained question-answering head "
                         f"(missing {', '.join(sorted(untrained))})")
    return model
