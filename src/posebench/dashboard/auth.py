"""Who is using the dashboard: single-user mode (the default) or signed-in users on a shared server.

One setting decides: ``POSEBENCH_MODE=shared`` (environment) turns on shared-server mode.

- **Single-user mode** (``make run`` on your own machine): no sign-in; the one user,
  ``local``, owns and may change everything.
- **Shared-server mode**: every page needs a signed-in user. Where an OpenID Connect
  provider is configured for Streamlit (an ``[auth]`` section in ``.streamlit/secrets.toml``),
  the sign-in is Streamlit's ``st.login`` and the user is the provider's e-mail address;
  otherwise it is a local account from ``posebench users add NAME`` (Argon2id hashes,
  ``engine.accounts``). Tracebacks are never shown (``client.showErrorDetails = none``).
"""

from __future__ import annotations

import logging
import os
import re

import streamlit as st

from posebench.access import accounts, throttle
from posebench.core.errors import BenchError
from posebench.store import audit, owners
from posebench.store.owners import Viewer

from . import safe_text

MODE_ENV = "POSEBENCH_MODE"
USER_KEY = "auth-user"  # session: the signed-in local account
log = logging.getLogger("posebench.auth")


def shared_mode() -> bool:
    return os.environ.get(MODE_ENV, "").strip().lower() == "shared"


def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section for ``st.login``."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _oidc_name() -> str | None:
    user = st.user
    if not user.get("is_logged_in"):
        return None
    raw = str(user.get("email") or user.get("sub") or "")
    name = re.sub(r"[^A-Za-z0-9_.@+-]", "_", raw)[:80].lstrip("._-+@")
    return name or None


def current_name() -> str | None:
    """The signed-in user's name, ``local`` in single-user mode, None when nobody is signed in."""
    if not shared_mode():
        return owners.LOCAL
    if oidc_configured():
        return _oidc_name()
    name = st.session_state.get(USER_KEY)
    try:
        known = name is None or name in accounts.users()
    except BenchError:  # a damaged accounts file: nobody is known until it is mended
        known = False
    if not known:
        # The account was removed (``posebench users remove``): its sessions end at their
        # next interaction, with nothing of it left in the session.
        audit.record("session-ended", name, str(name), reason="account removed")
        for key in list(st.session_state):
            del st.session_state[key]
        st.rerun()  # a clean run, signed out (nothing of the page half-drawn with the old user)
    return name


def client_id() -> str:
    """The client's address as the server sees it (a proxy's when behind one)."""
    try:
        address = st.context.ip_address
    except Exception:  # no request context (bare mode)
        address = None
    return address if isinstance(address, str) and address else "unknown"


def viewer() -> Viewer:
    """The person using this session (pages run only once ``signed_in()``)."""
    if not shared_mode():
        return Viewer(owners.LOCAL, single=True)
    name = current_name()
    if name is None:  # pages run only when signed in; refuse rather than guess
        raise BenchError("sign in first")
    return Viewer(name)


def apply_server_settings() -> None:
    """Shared mode: no tracebacks or developer menu for users."""
    if shared_mode():
        st.set_option("client.showErrorDetails", "none")
        st.set_option("client.toolbarMode", "viewer")


def signed_in() -> bool:
    """True when the session may go on: single-user mode, or a user is signed in."""
    return not shared_mode() or current_name() is not None


def sign_in_form() -> None:
    """The sign-in page: Streamlit's ``st.login`` button, or the local account form."""
    st.title("PoseBench")
    if oidc_configured():
        st.write("This PoseBench server is shared: sign in to see your runs and clips.")
        st.button("Sign in", type="primary", on_click=st.login, key="auth-oidc", icon=":material/login:")
        return
    _local_sign_in()


def _local_sign_in() -> None:
    st.write("This PoseBench server is shared: sign in with the account the administrator gave you.")
    with st.form("auth-form", clear_on_submit=False):
        name = st.text_input("User name", key="auth-name", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="auth-password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Sign in", type="primary", icon=":material/login:")
    if not submitted:
        return
    name, client = name.strip(), client_id()
    tried = throttle.keys(name, client)
    wait = throttle.SIGN_IN.wait_s(tried)
    if wait > 0:  # refused before the password is checked, the right one included
        audit.record("sign-in-refused", None, name[:80], client=client, wait_s=round(wait))
        st.error(too_many(wait))
        return
    try:
        ok = accounts.verify(name, password)
    except BenchError as exc:
        log.warning("sign-in failed: %s", exc)
        safe_text.error(exc)
        return
    if not ok:
        wait = throttle.SIGN_IN.failed(tried)
        audit.record("sign-in-failed", None, name[:80], client=client)
        if wait > 0:
            audit.record("sign-in-locked", None, name[:80], client=client, wait_s=round(wait))
        st.error(
            "That user name and password do not match an account on this server."
            + (f" {too_many(wait)}" if wait > 0 else "")
        )
        return
    throttle.SIGN_IN.succeeded(tried)
    audit.record("sign-in", name, name, client=client)
    st.session_state[USER_KEY] = name
    st.session_state.pop("auth-password", None)
    st.rerun()


def too_many(wait_s: float) -> str:
    return (
        "Too many wrong passwords for this account or from this computer: the next try is "
        f"heard in {max(1, round(wait_s))} s."
    )


def sign_out() -> None:
    if oidc_configured():
        st.logout()
        return
    name = st.session_state.get(USER_KEY)
    if name is not None:
        audit.record("sign-out", name, name, client=client_id())
    for key in list(st.session_state):  # nothing of this user stays in the session
        del st.session_state[key]


def sidebar_user() -> None:
    if not shared_mode():
        return
    name = current_name()
    if name is None:
        return
    with st.sidebar:
        st.caption(f"Signed in as **{safe_text.md(name)}**")
        st.button("Sign out", key="auth-sign-out", on_click=sign_out, icon=":material/logout:")


def may_change_run(run, root=None) -> bool:
    """True when this user may change what is saved with ``run`` (settings, label, sharing).

    A run not saved on disk is this session's own. In single-user mode everything may change.
    """
    from posebench.access import run_access
    from posebench.store import run_store

    if not shared_mode():
        return True
    try:
        folder = run_store.run_dir(run.run_id, root)
    except BenchError:
        return False
    if not (folder / "run.json").exists():
        return True
    return run_access.may_change(viewer(), run.run_id, root)
