"""The app's router: the start page plus every page of ``page_registry.PAGES``.

``app.py`` calls ``run()``.
"""

from __future__ import annotations

import functools
import logging
import uuid
from pathlib import Path

import streamlit as st

from posebench.core.errors import BenchError

from . import auth, clip_input, launch, page_registry, safe_text, state, widgets

log = logging.getLogger("posebench.dashboard")

DEFAULT_TRIED = "clip-default-tried"  # session flag: the bundled sample was offered once


def home() -> None:
    widgets.page_setup(
        "PoseBench",
        "Can RTMPose replace MediaPipe in the jump-analysis app? PoseBench runs both on your "
        "clip, measures how fast they are and how far their jump numbers are from a reference, "
        "and gives a verdict with the evidence.",
        "the Scorecard's verdict sentence; every other page shows the evidence behind it.",
    )
    st.markdown(
        "Work through the pages in order. Every number on them has its unit, and the "
        "captions say what a chart shows and under which settings it was measured."
    )
    for page in page_registry.PAGES:
        cols = st.columns([1, 4])
        with cols[0]:
            widgets.page_link(page.key)
        cols[1].write(page.purpose)
    info = st.session_state.get(state.CLIP_INFO)
    run = state.current_run()
    if info or run:
        st.divider()
    if info:
        st.write(
            f"Chosen clip: **{safe_text.md(info.name)}** "
            f"({info.width}×{info.height} px, {info.frames} frames)"
        )
    if run:
        st.markdown(widgets.run_caption(run))


def choose_default_clip() -> None:
    """Once per browser session: with no clip chosen, start on the bundled sample."""
    if st.session_state.get(DEFAULT_TRIED) or state.clip_path():
        return
    st.session_state[DEFAULT_TRIED] = True
    sample, _why = clip_input.bundled_sample()
    if sample is not None:
        try:
            state.set_clip(sample)
        except BenchError:
            pass  # the Clip page says what is wrong with it when it is picked there


@functools.cache
def _check_pages_folder(app_root: str) -> None:
    """Once per server: no ``pages`` folder beside ``app.py`` (``launch.clear_pages_folder``),
    so the next server's first link to a page is routed like any other."""
    stray = launch.clear_pages_folder(Path(app_root))
    if stray is not None:
        log.warning(
            "%s holds files: Streamlit treats it as the app's pages, so the first link to a page "
            "on a fresh server shows 'Page not found'; move it away",
            stray,
        )


def _app_root() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return str(ctx.pages_manager.main_script_parent) if ctx is not None else None


def run() -> None:
    root = _app_root()
    if root is not None:
        _check_pages_folder(root)
    auth.apply_server_settings()
    clip_input.sweep_stale_uploads()  # once per server; starts the sweep of closed sessions' uploads
    if not auth.signed_in():  # shared mode and nobody signed in: only the sign-in page
        # ... under every page's address too, so a shared link (".../Results?run=ID") opened
        # signed out shows the sign-in form, not "Page not found", and after signing in the
        # same address and its run are opened.
        waiting = [st.Page(auth.sign_in_form, title="Sign in", icon=":material/login:", default=True)]
        waiting += [
            st.Page(auth.sign_in_form, title="Sign in", url_path=page.url_path)
            for page in page_registry.PAGES
        ]
        st.navigation(waiting, position="hidden").run()
        return
    pages = [st.Page(home, title="Home", icon=":material/home:", default=True)]
    pages += [widgets.streamlit_page(page.key) for page in page_registry.PAGES]
    page = st.navigation(pages)  # each page picks up a finished run in widgets.page_setup
    problem = state.restore_from_url()  # a reload or a shared link: its clip and run
    if problem:
        st.session_state[widgets.URL_PROBLEM] = problem
    choose_default_clip()
    st.session_state[widgets.PAGE_POLLS] = False  # set again by a page that shows a job's progress
    try:
        page.run()
    except BenchError as exc:  # a sentence a person can act on
        safe_text.error(exc)
    except Exception:  # never a traceback: one sentence here, the detail in the server log
        ref = uuid.uuid4().hex[:8]
        log.exception("page %s failed (reference %s)", getattr(page, "title", "?"), ref)
        st.error(
            f"Something went wrong on this page and it stopped (reference {ref}); what was saved "
            "is kept. Try again, or tell the administrator the reference."
        )
    finally:  # after the page, so it shows what the page just chose (also after st.stop)
        widgets.sidebar_status()
        auth.sidebar_user()
        state.write_url()
