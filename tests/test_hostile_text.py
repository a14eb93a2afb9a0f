"""One rule for text: a hostile run imported from a zip shows no foreign link or image on
any page (AppTest) or in the HTML report.

Every text of the run that did not come from PoseBench's code (configuration labels, the
clip's name, notices, the jump table's backend and error, the run's name and note) is a
markdown link and image to a foreign host. Every element of every page is walked; each
text Streamlit renders as markdown (bodies, labels, help, captions, alerts, expanders,
tabs) is rendered with markdown-it (Streamlit's markdown dependency) and must hold no
``<a``/``<img`` and no raw HTML pointing at the foreign host.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from conftest import CLIPS, goto
from posebench.access import import_runs
from posebench.backends import backend_config
from posebench.dashboard import job_registry, run_transfer
from posebench.store import run_store

pytestmark = [pytest.mark.timeout(600)]
APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOST = "evil.example"
LINK = f"![p](http://{HOST}/x.png) [phish](http://{HOST}/) <img src=http://{HOST}/y.png>"
MARKDOWN_OPTIONS = ("Radio", "Slider", "ButtonGroup")
PAGES = [
    "clip",
    "run",
    "compare",
    "charts",
    "accuracy",
    "scorecard",
    "results",
    "explorer",
    "study",
]


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])
    return md


def foreign(html: str) -> list[str]:
    """Links, images and raw HTML elements of ``html`` that point at the foreign host."""
    found = re.findall(r"<(?:a|img)\b[^>]*>", html)
    return [tag for tag in found if HOST in tag]


def autolinks(text: str) -> list[str]:
    """Bare addresses GFM (and Streamlit) turn into links after parsing."""
    return re.findall(rf"(?:https?://|www\.){re.escape(HOST)}", text)


def hostile_zip(tmp_path: Path) -> Path:
    from test_dashboard import fake_run

    run = fake_run(tmp_path, "20250105-000000-hostile", frames=8, warmup=2)
    hostile = backend_config.override(backend_config.parse("rtmpose-lightweight"), {"label": "rt " + LINK})
    old = run.configs[1].display
    run.configs = [run.configs[0], hostile]
    run.summary["backend"] = run.summary["backend"].replace(old, hostile.display)
    run.frames["backend"] = run.frames["backend"].replace(old, hostile.display)
    run.native = {(hostile.display if k == old else k): v for k, v in run.native.items()}
    run.clip = replace(run.clip, name=LINK + ".mp4")
    run.extra["notices"] = [f"notice {LINK}"]
    jump_rows = [
        {"backend": hostile.display, "status": "failed", "error": f"err {LINK}", "warnings": f"warn {LINK}"},
        {
            "backend": run.configs[0].display,
            "status": "ok",
            "flight_time_s": 0.4,
            "error": "",
            "warnings": "",
        },
    ]
    folder = run_store.save(run, tmp_path / "elsewhere")
    run_store.set_label(run.run_id, f"name {LINK}"[:80], f"note {LINK}", tmp_path / "elsewhere")
    meta = json.loads((folder / "run.json").read_text())
    meta["name"], meta["note"] = f"name {LINK}"[:80], f"note {LINK}"
    meta["jump"] = jump_rows  # a crafted run.json may carry a jump table (saved as jump.csv)
    (folder / "run.json").write_text(json.dumps(meta))
    target = tmp_path / "hostile.zip"
    target.write_bytes(run_transfer.zip_run(folder))
    return target


def markdown_texts(node) -> list[str]:
    """Every text of an element that Streamlit renders as markdown."""
    proto = getattr(node, "proto", None)
    if proto is None:
        return []
    out = []
    for field, value in proto.ListFields():
        if field.name in ("body", "label", "help", "placeholder", "caption") and isinstance(value, str):
            out.append(value)
        if field.name in ("tab_labels", "labels") and not isinstance(value, str):
            out.extend(str(v) for v in value)
        # options are markdown in radios, select sliders and pills; plain text in select boxes
        if field.name == "options" and type(proto).__name__ in MARKDOWN_OPTIONS:
            out.extend(str(getattr(v, "content", v)) for v in value)
    return out


def walk(node):
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def leaks(at: AppTest) -> list[str]:
    render = _renderer()
    bad = []
    for root in (at.main, at.sidebar):
        for node in walk(root):
            for text in markdown_texts(node):
                if HOST not in text:
                    continue
                html = render.render(text)
                if foreign(html) or autolinks(text):
                    bad.append(f"{type(node).__name__}: {text[:160]!r}")
    return bad


@pytest.fixture
def hostile_app(tmp_path, results_root, monkeypatch):
    monkeypatch.setenv("POSEBENCH_UPLOADS", str(tmp_path / "uploads"))
    monkeypatch.setenv("POSEBENCH_CLIP_DIRS", str(CLIPS))
    saved = import_runs.import_run(hostile_zip(tmp_path), results_root)
    job_registry.registry.clear()
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    goto(at, "results").run()
    at.multiselect(key="results-pick").set_value([saved.name]).run()
    at.button(key="results-open").click().run()
    assert at.session_state["current_run"].run_id == saved.name
    return at, saved


def test_the_probe_finds_a_link_written_as_markdown():
    """The checker itself: an unescaped label is found, the escaped one is not."""
    from posebench.dashboard.safe_text import md

    render = _renderer()
    assert foreign(render.render(LINK)) and not foreign(render.render(md(LINK)))
    assert autolinks(f"see http://{HOST}/") and not autolinks(md(f"see http://{HOST}/"))


def test_a_hostile_imported_run_shows_no_foreign_link_on_any_page(hostile_app):
    at, _saved = hostile_app
    found, seen = {}, set()
    for page in [*PAGES, "home"]:  # home: the start page
        goto(at, page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        bad = leaks(at)
        if page == "run":  # the notice is shown (as text)
            assert any("notice" in i.value and HOST in i.value for i in at.info)
        if page == "accuracy":  # the jump table's error is shown (as text)
            assert any("err" in e.value and HOST in e.value for e in at.error)
        if any(HOST in text for node in walk(at.main) for text in markdown_texts(node)):
            seen.add(page)
        if bad:
            found[page] = bad
    assert not found, json.dumps(found, indent=1, ensure_ascii=False)
    # the probe looked at the hostile text: the pages that show the run do show it (escaped)
    assert {"run", "accuracy", "scorecard", "home"} <= seen, seen


def test_the_html_report_of_a_hostile_run_has_no_foreign_link(hostile_app):
    import io
    import zipfile

    from posebench.report import run_evidence

    _at, saved = hostile_app
    run = run_store.load(saved)
    with zipfile.ZipFile(io.BytesIO(run_evidence.run_bundle(run, with_charts=False))) as bundle:
        page = next(bundle.read(n).decode() for n in bundle.namelist() if n.endswith("report.html"))
    assert HOST in page  # the hostile text is there, as text
    tags = re.findall(r"<(?:a|img|link|script|iframe)\b[^>]*>", page)
    assert not [t for t in tags if "data:image/png" not in t], tags
