"""User text (labels, clip names, statuses, errors) shown as text, never as markdown or HTML.

Streamlit renders the text of ``st.markdown``, ``st.caption``, ``st.error`` and their kin as
markdown: a label such as ``![p](http://host/x.png) [phish](http://host/)`` would load the
image and show a working link to everyone who opens the run. ``md(text)`` puts a backslash
before every character that could start markup there (CommonMark shows an escaped
character as itself), so links, images, emphasis, HTML, ``:color[...]`` and ``$math$``
come out literally; autolinks and ``:emoji:`` codes are broken by an invisible zero-width
space, and it folds line breaks into spaces so no
block (heading, list, table) can start. Plain sentences ("failed: x", "a-b", "c_d.mp4") are
left as they are.

``error``, ``warning``, ``info``, ``success`` and ``caption`` show a sentence that may hold
user text, escaped; an exception becomes its one sentence.
"""

from __future__ import annotations

import re

import streamlit as st

_SPACE = {ord(ch): " " for ch in "\r\n\t\v\f\u2028\u2029"}
# Characters that start markup anywhere in a line: links and images ([ ]), emphasis (*),
# code (`), HTML and autolinks (< >), math ($), strikethrough (~), tables (|), Streamlit's
# directives ({ }), and the escape itself.
_ALWAYS = re.compile(r"([\\`*\[\]<>$~|{}])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # intraword _ is never emphasis
# GFM's autolinks (http://..., www.x.y, a@b.c) and Streamlit's :emoji: and :material/icon:
# shortcodes are found in the text *after* markdown is parsed, so a backslash does not stop
# them: a zero-width space (U+200B, invisible) breaks the pattern instead.
ZWSP = "\u200b"
_COLON = re.compile(r":(?=\S)")  # not "failed: x"
_WWW = re.compile(r"(?i)(?<![A-Za-z0-9])(www)(?=\.)")
_AT = re.compile(r"@")
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])|^([#\-+=>])")  # a heading, list or quote at the start


def md(text) -> str:
    """``text`` escaped for any Streamlit call that renders markdown (one line, literal)."""
    out = " ".join(str(text).translate(_SPACE).split()).strip()
    out = _ALWAYS.sub(r"\\\1", out)
    out = _UNDERSCORE.sub(r"\\_", out)
    out = _COLON.sub(":" + ZWSP, out)
    out = _WWW.sub(r"\1" + ZWSP, out)
    out = _AT.sub("@" + ZWSP, out)
    return _BLOCK_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", out)


def sentence(message) -> str:
    """An exception or text as one escaped sentence."""
    return md(str(message))


def error(message, **kwargs) -> None:
    st.error(sentence(message), **kwargs)


def warning(message, **kwargs) -> None:
    st.warning(sentence(message), **kwargs)


def info(message, **kwargs) -> None:
    st.info(sentence(message), **kwargs)


def success(message, **kwargs) -> None:
    st.success(sentence(message), **kwargs)


def caption(message, **kwargs) -> None:
    st.caption(sentence(message), **kwargs)
