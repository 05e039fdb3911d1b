"""No unpickling anywhere: weights come from safetensors only."""

import re

from tests.conftest import ROOT

SOURCES = [p for d in ("app.py", "demos", "models", "training", "bench") for p in
           ([ROOT / d] if d.endswith(".py") else (ROOT / d).rglob("*.py"))]


def test_no_pickle_or_eval_in_the_code():
    assert len(SOURCES) > 5
    for path in SOURCES:
        src = path.read_text()
        assert not re.search(r"\bimport pickle\b|\bpickle\.load|\bcPickle\b|\bdill\b", src), path
        assert not re.search(r"torch\.load\((?![^)]*weights_only=True)", src), path
        assert not re.search(r"(?<![\w.])eval\(|(?<![\w.])exec\(", src), path
        assert "allow_pickle=True" not in src, path


def test_no_pickled_weights_are_shipped():
    shipped = [p.name for p in (ROOT / "pretrained").rglob("*") if p.is_file()]
    assert shipped, "pretrained/ is empty"
    assert not [n for n in shipped if n.endswith((".bin", ".pt", ".pth", ".pkl", ".ckpt"))]


def test_uploads_are_size_limited_and_share_is_off_by_default():
    import app

    assert app.MAX_FILE_SIZE
    assert app.parse_args([]).share is False
