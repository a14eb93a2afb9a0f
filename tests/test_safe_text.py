"""User text is shown as text: what safe_text.md makes of hostile labels, rendered by a
CommonMark renderer with GFM tables and strikethrough (markdown-it-py, Streamlit's own
markdown dependency); the real browser rendering is checked in test_browser_shared.py."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from posebench.dashboard.safe_text import ZWSP, md

HOSTILE = [
    "![p](http://host/x.png) [phish](http://host/)",
    "<img src=x onerror=alert(1)> <b>bold</b> &lt;",
    "**bold** _it_ `code` ~~gone~~ $x^2$ :red[red] :material/home:",
    "# heading",
    "- item",
    "1. first",
    "a | b\n|---|---|\n| c | d |",
    "line one\n\n> quote",
]
RENDER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_one_plain_paragraph(text):
    html = RENDER.render(md(text))
    tags = ("<img", "<a ", "<strong", "<em", "<code", "<s>", "<h1", "<li", "<table", "<blockquote", "<b>")
    for tag in tags:
        assert tag not in html, (text, html)
    assert html.count("<p>") == 1


def test_plain_sentences_are_left_alone():
    for text in ("rtmpose-lightweight failed: failed at frame 4", "cmj_front_30fps.mp4", "run (1).mp4"):
        assert md(text) == text


def test_autolinks_and_shortcodes_are_broken_by_an_invisible_space():
    out = md("see http://host/x www.host.org a@b.org :smile:")
    assert "http://" not in out and "www." not in out and "a@b" not in out and ":smile:" not in out
    assert out.replace(ZWSP, "") == "see http://host/x www.host.org a@b.org :smile:"
