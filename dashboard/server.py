"""The dashboard as an ASGI app (``holdtrack dashboard`` runs ``streamlit run`` on this
file): ``app.py`` behind a check of the Host header, so that only this computer's own
names reach it. The dashboard can delete and merge sessions and has no login: a web page
elsewhere must not reach it through a name that resolves to 127.0.0.1 (DNS rebinding).

The check is Starlette's ``TrustedHostMiddleware``, given to ``st.App`` as its
middleware (Streamlit's supported way to add one); it answers 400 to any other Host, for
pages and for the websocket alike. ``holdtrack dashboard --allow-remote`` lets any name
through (``HOLDTRACK_ALLOWED_HOSTS=*``).
"""

from __future__ import annotations

import os

import streamlit as st
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

ENV_ALLOWED_HOSTS = "HOLDTRACK_ALLOWED_HOSTS"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")  # any port: a tunnel may forward another


def allowed_hosts() -> list[str]:
    """The Host names served: ``$HOLDTRACK_ALLOWED_HOSTS`` (comma-separated, ``*`` for any),
    else this computer's loopback names only."""
    given = [h.strip().lower() for h in os.environ.get(ENV_ALLOWED_HOSTS, "").split(",") if h.strip()]
    return given or list(LOOPBACK_HOSTS)


app = st.App("app.py", middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(), www_redirect=False)])
