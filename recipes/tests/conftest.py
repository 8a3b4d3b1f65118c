import os
import sys
import tempfile

import pytest

RECIPES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = os.path.join(RECIPES, "common")
TINY_QA = os.path.join(RECIPES, "tiny-qa")
TRAIN_QA = os.path.join(COMMON, "train_qa.py")

# Before anything imports transformers / huggingface_hub: the tests never use the network.
os.environ["HF_HUB_OFFLINE"] = "1"
# Trainers started by the tests cache their features here, not in the home of whoever runs them.
os.environ.setdefault("TUNEFORGE_FEATURE_CACHE", tempfile.mkdtemp(prefix="tuneforge-feature-cache-"))
sys.path[:0] = [COMMON, TINY_QA]


@pytest.fixture(scope="session")
def assets(tmp_path_factory):
    import make_assets

    out = tmp_path_factory.mktemp("tiny-qa") / "assets"
    assert make_assets.make_assets(str(out), seed=0) is True
    return out
