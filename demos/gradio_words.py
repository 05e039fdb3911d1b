"""Gradio's own words (buttons, placeholders, queue messages of its components) in the UI's language.

Gradio translates its front-end from the *browser's* language, and its Japanese table leaves some words English
(the drawing pad's "Upload an image" / "select the draw tool to start", "Layer", "Brush", ...). The app passes
its own table to ``gr.I18n`` (``demos/i18n.py: make_i18n``), and the front-end lets it replace Gradio's words:
so with ``--lang en`` a Japanese browser no longer shows "または", and the Japanese UI has no English left in the
drawing pad. ``gradio_words.json`` holds Gradio 6's English and Japanese tables, the Japanese completed with
``OUR_JAPANESE`` below; regenerate it after upgrading Gradio:

    python -m demos.gradio_words      # needs node (reads the tables from the installed gradio package)

What Gradio does not let the app choose is listed in the README (*One language at a time*).
"""

import functools
import json
import subprocess
from pathlib import Path

WORDS_FILE = Path(__file__).parent / "gradio_words.json"

# Gradio's Japanese table leaves these English; the gallery's translations (the keys are Gradio's).
OUR_JAPANESE = {
    "common.download_all": "すべてダウンロード",
    "common.progress": "進行状況",
    "common.run": "実行",
    "common.runs": "実行履歴",
    "common.runs_description": "このページで実行した処理",
    "common.record": "録画",
    "common.stop_recording": "録画を停止",
    "common.back_to_app": "アプリに戻る",
    "common.back_to_app_description": "アプリの画面に戻ります",
    "common.share_gradio_tab": "Gradio タブを共有",
    "common.screen_studio": "画面スタジオ",
    "dataframe.filter": "絞り込み",
    "dataframe.clear_filter": "絞り込みを解除",
    "image_editor.add_layer": "レイヤーを追加",
    "image_editor.brush": "ペン",
    "image_editor.brush_size": "ペンの太さ",
    "image_editor.clear_canvas": "キャンバスを消去",
    "image_editor.color": "色",
    "image_editor.confirm_crop": "切り抜きを確定",
    "image_editor.crop": "切り抜き",
    "image_editor.erase": "消しゴム",
    "image_editor.eraser_size": "消しゴムの太さ",
    "image_editor.fit_to_screen": "画面に合わせる",
    "image_editor.layer": "レイヤー",
    "image_editor.layers": "レイヤー",
    "image_editor.pan": "移動",
    "image_editor.paste": "貼り付け",
    "image_editor.redo": "やり直し",
    "image_editor.resize": "サイズ変更",
    "image_editor.save_changes": "変更を保存",
    "image_editor.select_draw_tool": "ペンを選んで描き始めましょう",
    "image_editor.show_layers": "レイヤーを表示",
    "image_editor.upload": "アップロード",
    "image_editor.upload_image": "画像をアップロード",
    "image_editor.webcam": "Web カメラ",
    "image_editor.zoom_in": "拡大",
    "image_editor.zoom_out": "縮小",
    "status.queue_position": "待ち順",
}


@functools.cache
def gradio_words() -> dict[str, dict[str, str]]:
    """``{"en": {key: word}, "ja": {key: word}}``: Gradio's front-end words, flat keys (``common.error``)."""
    return json.loads(WORDS_FILE.read_text(encoding="utf-8"))


_EXTRACT = """
const fs = require("fs");
const flat = (o, p = "", r = {}) => {
  for (const [k, v] of Object.entries(o)) {
    if (k === "default" || k === "_name") continue;
    const key = p ? p + "." + k : k;
    if (v && typeof v === "object") flat(v, key, r); else r[key] = String(v);
  }
  return r;
};
const dir = process.argv[1];
const find = (lang) => dir + "/" + fs.readdirSync(dir).find((f) => new RegExp("^" + lang + "-.*\\\\.js$").test(f));
Promise.all([import(find("en")), import(find("ja"))]).then(([en, ja]) =>
  console.log(JSON.stringify({en: flat(en.default || en), ja: flat(ja.default || ja)})));
"""


def extract(gradio_dir: Path) -> dict[str, dict[str, str]]:
    """Gradio's English and Japanese tables, read with node from the installed package's server chunks."""
    chunks = gradio_dir / "templates" / "node" / "build" / "server" / "chunks"
    out = subprocess.run(["node", "-e", _EXTRACT, str(chunks)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> None:
    import gradio

    tables = extract(Path(gradio.__file__).parent)
    missing = sorted(k for k in tables["en"] if k not in tables["ja"] and k not in OUR_JAPANESE)
    tables["ja"].update(OUR_JAPANESE)
    WORDS_FILE.write_text(json.dumps(tables, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {WORDS_FILE}: {len(tables['en'])} English, {len(tables['ja'])} Japanese words; "
          f"still English in Japanese: {', '.join(missing) or 'none'}")


if __name__ == "__main__":
    main()
