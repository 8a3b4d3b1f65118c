import importlib.util
import os
import sys
import tempfile

import pytest

RECIPES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMON = os.path.join(RECIPES, "common")
TINY_QA = os.path.join(RECIPES, "tiny-qa")
TINY_CLS = os.path.join(RECIPES, "tiny-cls")
TRAIN_QA = os.path.join(COMMON, "train_qa.py")
TRAIN_CLS = os.path.join(COMMON, "train_cls.py")
CHECK_DATA = os.path.join(COMMON, "check_data.py")

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


def tiny_cls_assets_module():
    """recipes/tiny-cls/make_assets.py (its module name would clash with tiny-qa's on sys.path)."""
    if "tiny_cls_make_assets" not in sys.modules:
        spec = importlib.util.spec_from_file_location("tiny_cls_make_assets", os.path.join(TINY_CLS, "make_assets.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules["tiny_cls_make_assets"] = module
    return sys.modules["tiny_cls_make_assets"]


@pytest.fixture(scope="session")
def cls_assets(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-cls") / "assets"
    assert tiny_cls_assets_module().make_assets(str(out), seed=0) is True
    return out
