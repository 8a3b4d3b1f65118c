import numpy as np
import pytest

import qa_data
import qa_eval


@pytest.mark.parametrize("text,normalized", [
    ("The  Cat, sat!", "cat sat"),
    ("An apple a day", "apple day"),
    ("the theatre", "theatre"),  # articles are whole words only
    ("  Oslo.\n", "oslo"),
])
def test_normalize_answer(text, normalized):
    assert qa_eval.normalize_answer(text) == normalized


def test_exact_match_ignores_case_punctuation_and_articles():
    assert qa_eval.exact_match("The Eiffel Tower.", "eiffel tower") == 1.0
    assert qa_eval.exact_match("Eiffel Tower", "Eiffel Towers") == 0.0


def test_f1_counts_shared_tokens():
    # 2 shared of 3 predicted and 4 gold tokens ("the" dropped): P 2/3, R 1/2, F1 = 4/7.
    assert qa_eval.f1("tall Eiffel tower", "the Eiffel Tower in Paris") == pytest.approx(4 / 7)
    # Repeats count once per occurrence on both sides: shared {go: 1, stop: 1}, P = R = 2/3.
    assert qa_eval.f1("go go stop", "go stop stop") == pytest.approx(2 / 3)
    assert qa_eval.f1("blue", "red") == 0.0
    assert qa_eval.f1("", "red") == 0.0


def test_scores_take_the_best_gold_and_are_means_times_100():
    golds = {
        "q1": ["in Paris, France", "Paris"],  # EM 1, F1 1 (second gold)
        "q2": ["the Eiffel Tower in Paris"],  # EM 0, F1 4/7
        "q3": ["red"],  # EM 0, F1 0
        "q4": ["Paris", "France"],  # EM 0, F1 max(2/3, 2/3)
    }
    predictions = {"q1": "Paris", "q2": "tall Eiffel tower", "q3": "blue", "q4": "Paris France"}
    scores = qa_eval.squad_scores(predictions, golds)
    assert scores["exact_match"] == pytest.approx(25.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 4 / 7 + 0 + 2 / 3) / 4)  # 55.95


@pytest.mark.parametrize("predictions,golds,message", [
    ({"a": "x"}, {"a": ["x"], "b": ["y"]}, r"1 references without a prediction \(e.g. \['b'\]\)"),
    ({"a": "x", "c": "z"}, {"a": ["x"]}, r"1 predictions without a reference \(e.g. \['c'\]\)"),
    ({"a": "x"}, {"a": []}, "1 references have no gold answer"),
    ({}, {}, "no reference answers"),
])
def test_unscorable_inputs_raise(predictions, golds, message):
    with pytest.raises(qa_eval.EvalError, match=message):
        qa_eval.squad_scores(predictions, golds)


# Hand-made features over CONTEXT; a question token and [CLS]/[SEP] have offsets None.
CONTEXT = "one two three four five six"
SPANS = {"one": (0, 3), "two": (4, 7), "three": (8, 13), "four": (14, 18), "five": (19, 23), "six": (24, 27)}
ROWS = [{"id": "e1", "context": CONTEXT}]


def window(*words):
    """[CLS] question [SEP] words... [SEP]: token i of the window, offsets as run_qa keeps them."""
    return [None, None, None] + [SPANS[word] for word in words] + [None]


def logits(length, **at):
    """-10 everywhere except at=value for token index i<at>."""
    row = np.full(length, -10.0, dtype=np.float32)
    for index, value in at.items():
        row[int(index.removeprefix("i"))] = value
    return row


def postprocess(offsets, starts, ends, **options):
    return qa_eval.postprocess_predictions(ROWS, ["e1"] * len(offsets), offsets, np.stack(starts),
                                           np.stack(ends), **options)["e1"]


def test_best_span_can_be_in_a_later_window_across_the_first_windows_end():
    first, second = window("one", "two", "three", "four"), window("three", "four", "five", "six")
    # Window 1 sees "four" starting but the answer ends beyond it (its best end is the [SEP], i7);
    # window 2 holds all of "four five" and scores higher (4 + 4 > 5 + 0).
    starts = [logits(8, i6=5), logits(8, i4=4)]
    ends = [logits(8, i7=9), logits(8, i5=4)]
    assert postprocess([first, second], starts, ends) == "four five"


def test_spans_outside_the_context_are_excluded():
    offsets = [window("one", "two", "three")]
    starts = [logits(7, i1=10, i4=2)]  # i1 is a question token
    ends = [logits(7, i1=10, i6=9, i5=1)]  # i6 is the final [SEP]
    assert postprocess(offsets, starts, ends) == "two three"


def test_end_before_start_and_long_spans_are_excluded():
    offsets = [window("one", "two", "three", "four", "five")]
    starts = [logits(9, i4=5)]
    ends = [logits(9, i3=9, i7=6, i5=3)]  # i3 ("one") comes before the start
    assert postprocess(offsets, starts, ends) == "two three four five"  # 4 tokens
    assert postprocess(offsets, starts, ends, max_answer_tokens=3) == "two three"


def test_candidates_are_the_top_n_of_all_tokens_then_filtered():
    # As utils_qa: with n_best 1 the only start candidate is a question token, so nothing qualifies.
    offsets = [window("one", "two")]
    starts, ends = [logits(6, i1=3, i3=2)], [logits(6, i4=1)]
    assert postprocess(offsets, starts, ends, n_best=2) == "one two"
    assert postprocess(offsets, starts, ends, n_best=1) == ""


def test_features_must_match_the_logits_and_the_examples():
    offsets = [window("one")]
    with pytest.raises(qa_eval.EvalError, match="2 start and 1 end logit rows for 1 features"):
        qa_eval.postprocess_predictions(ROWS, ["e1"], offsets, np.zeros((2, 5)), np.zeros((1, 5)))
    with pytest.raises(qa_eval.EvalError, match="'other', which is not an evaluation example"):
        qa_eval.postprocess_predictions(ROWS, ["other"], offsets, np.zeros((1, 5)), np.zeros((1, 5)))


def test_perfect_logits_give_every_answer_back_through_overflowing_windows(assets):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(assets / "tokenizer")
    rows = qa_data.load_json_rows(str(assets / "data" / "eval.json"))
    features = qa_data.prepare_validation_features(rows, tokenizer, 24, 4)
    assert len(features.example_ids) > len(rows)  # some examples span several windows
    labels = features.dataset.tensors
    starts, ends = np.zeros(labels["input_ids"].shape), np.zeros(labels["input_ids"].shape)
    for index, (start, end) in enumerate(zip(labels["start_positions"], labels["end_positions"])):
        if start > 0:  # windows without the answer are labelled [CLS] (0) and keep flat logits
            starts[index, start], ends[index, end] = 10.0, 10.0
    answers = qa_eval.postprocess_predictions(rows, features.example_ids, features.offsets, starts, ends)
    assert answers == {row["id"]: row["answers"]["text"][0] for row in rows}
    assert qa_eval.squad_scores(answers, qa_eval.references(rows)) == {"exact_match": 100.0, "f1": 100.0}


def test_validation_features_keep_offsets_only_inside_the_context(assets):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(assets / "tokenizer")
    row = qa_data.load_json_rows(str(assets / "data" / "eval.json"))[0]
    features = qa_data.prepare_validation_features([row], tokenizer, 96, 32)
    (offsets,) = features.offsets
    tokens = tokenizer.convert_ids_to_tokens(features.dataset.tensors["input_ids"][0].tolist())
    first_sep = tokens.index("[SEP]")
    assert all(span is None for span in offsets[:first_sep + 1])  # [CLS], question, [SEP]
    inside = [span for span in offsets if span is not None]
    assert inside and inside[0][0] == 0 and inside[-1][1] == len(row["context"])
    assert features.example_ids == [row["id"]]
    assert set(features.dataset[0]) == set(qa_data.FEATURE_KEYS)
