"""Japanese and English: the strings of the gallery's shell, and the machinery every tab's strings use.

Each tab keeps its own short strings beside its code (``Tab(strings=...)`` in ``demos/<tab>.py``, English and
Japanese side by side) and its long explanation as Markdown files a teacher can edit
(``demos/explanations/<tab>.en.md`` and ``.ja.md``). This module holds what the tabs share: the title, the
common errors, the share button.

Two ways a string reaches the student:
- static text (labels, explanations): a component gets ``strings.ui("name")`` and the *browser* translates it
  with ``gr.I18n`` (``make_i18n``);
- text made at run time (errors, tables): ``strings.text("name", **values)`` renders it in the language of
  the current event. That language is chosen once per event, where the event is wired (``Page.on`` in
  ``demos/kit.py``), from ``--lang`` or the browser's ``Accept-Language``; plain functions never see a request.
  Plain code raises ``strings.problem("name", **values)``, a ``Problem``, and ``Page.on`` shows it translated.

``tests/test_i18n.py`` checks that every string exists in both languages with the same ``{placeholders}``.
"""

import contextlib
import contextvars
import string
from pathlib import Path

import gradio as gr
from gradio.i18n import I18nData

LANGUAGES = ("ja", "en")
EXPLANATIONS = Path(__file__).parent / "explanations"

# The language of the event being handled (set by ``language``; English outside any event).
_current_language = contextvars.ContextVar("gallery_language", default="en")


def current_language() -> str:
    return _current_language.get()


@contextlib.contextmanager
def language(lang: str):
    """Render run-time strings in ``lang`` inside this block: ``with language("ja"): strings.text(...)``."""
    token = _current_language.set(lang)
    try:
        yield
    finally:
        _current_language.reset(token)


def request_language(request: gr.Request | None, forced: str | None = None) -> str:
    """'ja' or 'en': ``forced`` (``--lang``), else the first of them in the browser's Accept-Language, else 'en'."""
    if forced:
        return forced
    header = ""
    if request is not None:
        try:
            header = request.headers.get("accept-language", "") or ""
        except Exception:
            header = ""
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        for lang in LANGUAGES:
            if tag == lang or tag.startswith(lang + "-"):
                return lang
    return "en"


# Where the notices shown during a computation are also written down (``noting``), if anywhere.
_notices = contextvars.ContextVar("gallery_notices", default=None)


def warn(message: str) -> None:
    """A notice for the student (``gr.Warning``) whose title is in the event's language too (Gradio's is English)."""
    gr.Warning(message, title=COMMON.text("toast.warning"))
    notices = _notices.get()
    if notices is not None:
        notices.append(message)


@contextlib.contextmanager
def noting(notices: list):
    """Inside this block, every ``warn`` message is also appended to ``notices`` (a remembered result shows them
    again: ``demos/remember.py``)."""
    token = _notices.set(notices)
    try:
        yield notices
    finally:
        _notices.reset(token)


def placeholders(template: str) -> set[str]:
    """The ``{names}`` of a template."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class Text:
    """One string in every language, with the values to fill in; rendered when shown, in the event's language.
    A value may itself be a ``Text`` (e.g. the name of a slider inside an error message)."""

    def __init__(self, key: str, templates: dict[str, str], values: dict | None = None):
        self.key, self.templates, self.values = key, templates, values or {}

    def render(self, lang: str | None = None) -> str:
        lang = lang or current_language()
        values = {k: v.render(lang) if isinstance(v, Text) else v for k, v in self.values.items()}
        template = self.templates[lang]
        return template.format(**values) if values else template

    def __str__(self) -> str:
        return self.render()


class Problem(gr.Error):
    """An error the student can fix (a bad input, a missing weights file), raised by key with its values.

    Where the event is wired (``Page.on``) it is shown in the student's language; called directly (tests,
    scripts) it reads in the current language (English outside an event). It is a ``gr.Error``, so Gradio
    shows it as a message, never as a crash."""

    def __init__(self, text: Text, duration: float | None = 10):
        self.text = text
        super().__init__(text.render(), duration=duration)

    def in_language(self, lang: str) -> gr.Error:
        return gr.Error(self.text.render(lang), duration=self.duration, title=COMMON.text("toast.error", lang=lang))


class Strings:
    """The short strings of one part of the UI, English and Japanese side by side:
    ``{"name": {"en": "...", "ja": "..."}}``. In the browser's table the keys are ``<prefix>.<name>``."""

    def __init__(self, prefix: str, table: dict[str, dict[str, str]]):
        self.prefix = prefix
        self.table = table
        _ALL_STRINGS.append(self)

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}" if self.prefix else name

    def _templates(self, name: str) -> dict[str, str]:
        if name not in self.table:
            raise KeyError(f"no string {self.key(name)!r}")
        return self.table[name]

    def ui(self, name: str, /) -> I18nData:
        """For a component's label or text: translated by the browser (unknown names fail at build time)."""
        self._templates(name)
        return I18nData(self.key(name))

    def phrase(self, name: str, /, **values) -> Text:
        """The string with its values, to render later (e.g. as a value of another string)."""
        return Text(self.key(name), self._templates(name), values)

    def text(self, name: str, /, lang: str | None = None, **values) -> str:
        """The string rendered now, in ``lang`` (default: the current event's language)."""
        return self.phrase(name, **values).render(lang)

    def problem(self, name: str, /, duration: float | None = 10, **values) -> Problem:
        """An error to raise: ``raise STRINGS.problem("bad_value", value=v)``."""
        return Problem(self.phrase(name, **values), duration=duration)

    def translations(self, lang: str) -> dict[str, str]:
        """``{full key: string}`` in ``lang``, for ``gr.I18n``."""
        return {self.key(name): templates[lang] for name, templates in self.table.items()}


# Every table of strings, so that a component's label (which keeps only its key) can be rendered in a message.
_ALL_STRINGS: list[Strings] = []


def label_phrase(label) -> "Text | str":
    """A component's label as a ``Text`` (its key looked up in the tables), or as it is if it is plain text."""
    if not isinstance(label, I18nData):
        return "" if label is None else str(label)
    for strings in _ALL_STRINGS:
        name = label.key[len(strings.prefix) + 1:] if strings.prefix else label.key
        if (not strings.prefix or label.key.startswith(strings.prefix + ".")) and name in strings.table:
            return strings.phrase(name)
    return label.key


def shown_value(value, limit: int = 40) -> str:
    """What the student (or a script) sent, short enough to quote in a message."""
    text = str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Refused:
    """What an input component's check hands the event instead of raising (demos/controls.py): Gradio checks the
    inputs before the event's language is known, so ``Page.on`` raises it then, as a ``Problem`` in that language."""

    def __init__(self, text: Text):
        self.text = text

    def __repr__(self) -> str:
        return f"Refused({self.text.render('en')!r})"


def read_explanation(tab_id: str) -> dict[str, str]:
    """``{"en": ..., "ja": ...}`` from ``explanations/<tab_id>.<lang>.md`` (Markdown with KaTeX maths)."""
    return {lang: (EXPLANATIONS / f"{tab_id}.{lang}.md").read_text(encoding="utf-8") for lang in LANGUAGES}


def make_i18n(parts, lang: str | None = None) -> gr.I18n:
    """The gr.I18n to pass to ``launch``: Gradio's own words (demos/gradio_words.py), the shell's strings and those
    of ``parts`` (each with ``.strings``, a ``Strings``; e.g. the tabs). With ``lang`` (``--lang``) every browser
    gets that language, Gradio's words included."""
    from demos.gradio_words import gradio_words

    tables = {code: {**gradio_words()[code], **COMMON.translations(code)} for code in LANGUAGES}
    for part in parts:
        for code in LANGUAGES:
            tables[code].update(part.strings.translations(code))
    if lang:
        return gr.I18n(**{code: tables[lang] for code in LANGUAGES})
    return gr.I18n(**tables)


# The strings of the gallery's shell and those every tab shares (no prefix: their keys are written in full).
COMMON = Strings("", {
    "app.title": {"en": "# Generative Models Gallery", "ja": "# 生成モデル・ギャラリー"},
    "app.intro": {
        "en": (
            "An interactive companion to a university course on generative models. Every tab is a real model, trained "
            "on real data by a script in this repository, with the idea and its key equation beside the controls. "
            "Draw, upload or pick your own inputs and watch what the model does with them."
        ),
        "ja": (
            "大学の講義「生成モデル」のためのインタラクティブな教材です。各タブのモデルは、このリポジトリの学習スクリプ"
            "トで実データから学習した本物のモデルです。操作パネルの横に考え方と主要な数式を載せています。自分で描いた画"
            "像やアップロードした画像を入力して、モデルがそれをどう扱うかを確かめてみましょう。"
        ),
    },
    "common.seed": {"en": "Seed", "ja": "シード"},
    "common.new_seed": {"en": "Random seed", "ja": "ランダムなシード"},
    "toast.error": {"en": "Error", "ja": "エラー"},
    "toast.warning": {"en": "Note", "ja": "お知らせ"},
    # Gradio's words that app.TOAST_TITLES_JS replaces in the page: "Error", "Warning", "Info" (toast titles), "Pages:"
    # (examples), and its message for an upload over the size limit (empty: left as it is; %LIMIT% and %NAMES%: its
    # limit and file names — not {braces}, which Gradio's i18n would read as placeholders of its own).
    "toast.titles": {
        "en": "Error|Note|Info|Pages:|",
        "ja": "エラー|お知らせ|お知らせ|ページ：|ファイルが大きすぎます（1 ファイル %LIMIT% まで）：%NAMES%",
    },
    "err.unreadable": {
        "en": "This file could not be read as an image. Please upload a PNG, JPEG, WebP or GIF image.",
        "ja": "このファイルは画像として読み込めませんでした。PNG・JPEG・WebP・GIF の画像をアップロードしてください。",
    },
    "err.not_image": {
        "en": "That file is not an image. Please drop or upload a PNG, JPEG, WebP or GIF image, or draw a digit.",
        "ja": ("そのファイルは画像ではありません。PNG・JPEG・WebP・GIF の画像をドロップまたはアップロードするか、"
               "数字を描いてください。"),
    },
    "err.no_image": {
        # (a file the browser cannot decode as an image leaves a drawing pad empty, and the server never sees it)
        "en": ("No image{what}. Draw a digit, upload an image (PNG, JPEG, WebP or GIF) or pick an example. A file "
               "that is not an image leaves the pad empty."),
        "ja": ("画像{what}がありません。数字を描くか、画像（PNG・JPEG・WebP・GIF）をアップロードするか、"
               "例を選んでください。画像として読めないファイルを入れると、パッドは空になります。"),
    },
    "err.empty": {
        "en": "The image{what} is empty: no strokes were found. Draw a digit first.",
        "ja": "画像{what}が空です（線が見つかりません）。先に数字を描いてください。",
    },
    "err.no_photo": {
        "en": "No photo{what}. Upload one, take one with the webcam, or pick an example.",
        "ja": "写真{what}がありません。アップロードするか、Web カメラで撮るか、例を選んでください。",
    },
    "err.too_small": {
        "en": "The photo is too small ({w}×{h} px). Please use one at least 8 px on each side.",
        "ja": "写真が小さすぎます（{w}×{h} px）。縦横とも 8 px 以上の写真を使ってください。",
    },
    "err.too_thin": {
        "en": ("The photo ({w}×{h} px) is too long and thin: shrunk to at most {side} px it would be {sw}×{sh} px. "
               "Please crop it to a squarer shape."),
        "ja": ("写真（{w}×{h} px）が細長すぎます。長辺 {side} px 以下に縮小すると {sw}×{sh} px になります。"
               "もっと正方形に近い形に切り抜いてください。"),
    },
    "warn.downscaled": {
        "en": "The image ({w}×{h} px) was large, so it was shrunk to at most {side} px before processing.",
        "ja": "画像（{w}×{h} px）が大きいため、長辺 {side} px 以下に縮小してから処理しました。",
    },
    "err.weights": {
        "en": (
            "The weights of “{slug}” are not available, so this tab is disabled (the other tabs work). Reason: "
            "{reason}. To get them, use a full clone of the repository (with its `pretrained/` folder), point "
            "GALLERY_HUB_ORG / GALLERY_HUB_REVISION at a Hub repo that has them, or train them yourself: `{command}`"
        ),
        "ja": (
            "「{slug}」の重みが見つからないため、このタブは無効になっています（他のタブは使えます）。原因：{reason}。重"
            "みを入手するには、`pretrained/` フォルダを含むリポジトリ全体を clone するか、GALLERY_HUB_ORG / "
            "GALLERY_HUB_REVISION で重みのある Hub リポジトリを指定するか、自分で学習してください：`{command}`"
        ),
    },
    "err.seed": {
        "en": "The seed “{value}” cannot be used: it must be a whole number from 0 to {max}.",
        "ja": "シード「{value}」は使えません。0 から {max} までの整数にしてください。",
    },
    "err.range": {
        "en": "“{name}” cannot be {value}: it must be between {low} and {high}.",
        "ja": "「{name}」に {value} は使えません。{low} 以上 {high} 以下にしてください。",
    },
    "err.not_number": {
        "en": "“{name}”: “{value}” is not a number.",
        "ja": "「{name}」：「{value}」は数ではありません。",
    },
    "err.choice": {
        "en": "Unknown choice “{value}”. Expected one of: {choices}.",
        "ja": "「{value}」は選択肢にありません。次のいずれかを指定してください：{choices}。",
    },
    "err.choice_of": {
        "en": "“{name}”: “{value}” is not one of the choices. Expected one of: {choices}.",
        "ja": "「{name}」：「{value}」は選択肢にありません。次のいずれかを指定してください：{choices}。",
    },
    "err.queue_full": {
        "en": "The gallery is busy ({size} requests are waiting). Please try again in a moment.",
        "ja": "ギャラリーが混み合っています（{size} 件の処理が待っています）。少し待ってからもう一度試してください。",
    },
    "err.heavy_busy": {
        "en": "Your previous request is still waiting for its turn. Please wait for it to finish, then try again.",
        "ja": "前のリクエストがまだ順番を待っています。それが終わってから、もう一度試してください。",
    },
    "slide.button": {"en": "Save as slide", "ja": "スライドとして保存"},
    "slide.file": {"en": "Slide (1920×1080 PNG)", "ja": "スライド（1920×1080 の PNG）"},
    "slide.nothing": {
        "en": "There is no result to put on a slide yet: run the tab first.",
        "ja": "スライドにする結果がまだありません。先にタブを実行してください。",
    },
    "slide.settings": {"en": "Settings", "ja": "設定"},
    "slide.yes": {"en": "yes", "ja": "はい"},
    "slide.no": {"en": "no", "ja": "いいえ"},
    "share.button": {"en": "Link to this", "ja": "この設定のリンク"},
    "share.label": {
        "en": "A link that opens this tab with these settings (images are not included)",
        "ja": "このタブをこの設定で開くリンク（画像は含まれません）",
    },
})
