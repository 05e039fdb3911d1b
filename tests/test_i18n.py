"""Both languages are complete, with the same placeholders, every tab has its explanation in both, every string a
tab asks for exists, and the language is picked once per event (demos/kit.py: Page.on)."""

import re
from pathlib import Path

import gradio as gr
import pytest

from demos.i18n import COMMON, LANGUAGES, Strings, language, make_i18n, placeholders, request_language

ROOT = Path(__file__).resolve().parent.parent


class FakeRequest:
    def __init__(self, header):
        self.headers = {"accept-language": header}


def gallery_tabs():
    import app

    return app.TABS


def every_strings() -> list[Strings]:
    return [COMMON, *(tab.strings for tab in gallery_tabs())]


def test_tables_match():
    for strings in every_strings():
        for name, templates in strings.table.items():
            key = strings.key(name)
            assert set(templates) == set(LANGUAGES), key
            if name == "slide_equation":  # maths: the same in both languages
                assert templates["en"] == templates["ja"], key
            if name not in ("explain", "slide_equation"):  # LaTeX braces; never formatted
                assert placeholders(templates["en"]) == placeholders(templates["ja"]), key
            assert templates["en"].strip() and templates["ja"].strip(), key


def test_every_tab_has_a_title_and_an_explanation_in_both_languages():
    for tab in gallery_tabs():
        assert "title" in tab.strings.table, tab.id
        for lang in LANGUAGES:
            md = ROOT / "demos" / "explanations" / f"{tab.id}.{lang}.md"
            assert md.is_file() and md.read_text(encoding="utf-8").strip(), md
            assert tab.strings.table["explain"][lang] == md.read_text(encoding="utf-8")


def test_ids_are_unique_and_name_the_module_and_the_test():
    ids = [name for tab in gallery_tabs() for name in (tab.id, *tab.old_ids)]
    assert len(ids) == len(set(ids))
    for tab in gallery_tabs():
        assert (ROOT / "demos" / f"{tab.id}.py").is_file() and (ROOT / "tests" / f"test_{tab.id}.py").is_file(), tab.id


def test_japanese_is_japanese():
    # every Japanese string that is not a pure symbol/formula has Japanese characters in it
    for strings in every_strings():
        for name, templates in strings.table.items():
            value = templates["ja"]
            symbols = ("z₁", "z₂", "nats", "DDPM", "DDIM")  # formulas, units and names the same in both languages
            if value in symbols or strings.key(name) in ("vae.kl_term",) or name == "slide_equation":
                continue
            assert any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
                       for ch in value), strings.key(name)


# TAB.ui("name"), TAB.text("name", ...), TAB.phrase(...), TAB.problem(...), and _("name") where _ = TAB.ui
USES = re.compile(r"""(?:\bTAB\.(?:ui|text|phrase|problem)|(?<![\w.])_)\(\s*"([a-z0-9_]+)"\s*[,)]""")
COMMON_USES = re.compile(r"""\bCOMMON\.(?:ui|text|phrase|problem)\(\s*"([a-z0-9_.]+)"\s*[,)]""")


def test_every_string_a_tab_uses_exists():
    for tab in gallery_tabs():
        source = (ROOT / "demos" / f"{tab.id}.py").read_text(encoding="utf-8")
        used = set(USES.findall(source))
        assert used, tab.id
        assert used <= set(tab.strings.table), (tab.id, used - set(tab.strings.table))
    for path in (ROOT / "demos").glob("*.py"):
        assert set(COMMON_USES.findall(path.read_text(encoding="utf-8"))) <= set(COMMON.table), path


def test_language_from_the_browser():
    assert request_language(FakeRequest("ja,en-US;q=0.9")) == "ja"
    assert request_language(FakeRequest("en-GB,ja;q=0.5")) == "en"
    assert request_language(FakeRequest("fr-FR,ja;q=0.5")) == "ja"
    assert request_language(FakeRequest("de")) == "en"
    assert request_language(None) == "en"
    with language("ja"):
        assert COMMON.text("err.seed", value=-1, max=5) == COMMON.table["err.seed"]["ja"].format(value=-1, max=5)
    assert COMMON.text("err.seed", value=-1, max=5) == COMMON.table["err.seed"]["en"].format(value=-1, max=5)


def test_forced_language():
    assert request_language(FakeRequest("en-US"), forced="ja") == "ja"
    tabs = gallery_tabs()
    forced = make_i18n(tabs, "ja").translations_dict
    assert forced["en"] == forced["ja"] and forced["en"]["err.seed"] == COMMON.table["err.seed"]["ja"]
    assert forced["en"]["ae.title"] == tabs[0].strings.table["title"]["ja"]
    assert make_i18n(tabs).translations_dict["en"]["ae.title"] == tabs[0].strings.table["title"]["en"]


def test_app_does_not_write_the_environment(monkeypatch):
    """``--lang`` is handed to the app, not written into os.environ (where every later app would read it)."""
    import os

    import app

    monkeypatch.delenv("GALLERY_LANG", raising=False)
    args = app.parse_args(["--lang", "ja"])
    assert args.lang == "ja" and "GALLERY_LANG" not in os.environ


def test_problems_are_translated_where_the_event_is_wired():
    """Plain code raises a Problem by key; Page.on shows it in the language of the event's browser, or --lang."""
    from demos.kit import Page, Tab

    tab = Tab(id="ae", strings={"title": {"en": "T", "ja": "タ"},
                                "bad": {"en": "{n} is bad", "ja": "{n} はだめです"}})

    def plain(n):
        raise tab.problem("bad", n=n)

    with pytest.raises(gr.Error) as err:  # called directly: English
        plain(3)
    assert err.value.message == "3 is bad"
    with pytest.raises(gr.Error) as err:
        Page(tab).handler(plain)(3, FakeRequest("ja"))
    assert err.value.message == "3 はだめです"
    with pytest.raises(gr.Error) as err:  # --lang en in a Japanese browser
        Page(tab, lang="en").handler(plain)(3, FakeRequest("ja"))
    assert err.value.message == "3 is bad"
