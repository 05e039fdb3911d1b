"""Both languages are complete, with the same placeholders, and the right one is picked."""

import string

from demos.i18n import EN, JA, make_i18n, request_language, text


class FakeRequest:
    def __init__(self, header):
        self.headers = {"accept-language": header}


def placeholders(s: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(s) if name}


def test_tables_match():
    assert set(EN) == set(JA)
    for key in EN:
        if not key.endswith(".explain"):  # explanations hold LaTeX braces and are never formatted
            assert placeholders(EN[key]) == placeholders(JA[key]), key
        assert EN[key].strip() and JA[key].strip(), key


def test_japanese_is_japanese():
    # every Japanese string that is not a pure symbol/formula has Japanese characters in it
    for key, value in JA.items():
        if value in ("z₁", "z₂", "nats") or key in ("vae.kl_term",):
            continue
        assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in value), key


def test_language_from_the_browser(monkeypatch):
    monkeypatch.delenv("GALLERY_LANG", raising=False)
    assert request_language(FakeRequest("ja,en-US;q=0.9")) == "ja"
    assert request_language(FakeRequest("en-GB,ja;q=0.5")) == "en"
    assert request_language(FakeRequest("fr-FR,ja;q=0.5")) == "ja"
    assert request_language(FakeRequest("de")) == "en"
    assert request_language(None) == "en"
    assert text("err.seed", FakeRequest("ja"), max=5) == JA["err.seed"].format(max=5)


def test_forced_language(monkeypatch):
    monkeypatch.setenv("GALLERY_LANG", "ja")
    assert request_language(FakeRequest("en-US")) == "ja"
    i18n = make_i18n()
    assert i18n.translations_dict["en"] == JA and i18n.translations_dict["ja"] == JA
    monkeypatch.delenv("GALLERY_LANG")
    assert make_i18n().translations_dict["en"] == EN
