"""HoldTrack dashboard: the entry script (``streamlit run`` on this file).

Run it with ``holdtrack dashboard``, which picks the data folder, imports the demo data on
a first start and keeps the server on this computer unless told otherwise.
"""

from __future__ import annotations

import streamlit as st

# `sensor` and `dashboard` are imported as installed packages (`pip install .`, or the
# editable install `uv sync` makes), never through a sys.path edit.
from dashboard import data, phone, ui
from sensor.errors import StoreError
from sensor.vocab import counted

st.set_page_config(page_title="HoldTrack", page_icon=":material/accessibility_new:", layout="wide")
ui.style()
phone.style()  # 390 px screens (dashboard/phone.py)

HISTORY = st.Page("views/history.py", title="History", icon=":material/calendar_month:", url_path="history")


def _home() -> None:
    """The app's root address shows History at its own address (/history), so a link to
    /history is that page, not "Page not found" (Streamlit serves the default page at the
    root only, whatever its url_path). The query goes along."""
    st.switch_page(HISTORY, query_params=st.query_params.to_dict())


PAGES = {
    "Progress": [
        st.Page(_home, title="HoldTrack", url_path="home", default=True, visibility="hidden"),
        HISTORY,
        st.Page("views/session.py", title="Session", icon=":material/monitoring:", url_path="session"),
    ],
    "Workout": [
        st.Page("views/live.py", title="Live", icon=":material/sensors:", url_path="live"),
        st.Page("views/replay.py", title="Replay", icon=":material/replay:", url_path="replay"),
    ],
    "Setup": [st.Page("views/settings.py", title="Settings", icon=":material/tune:", url_path="settings")],
}

page = st.navigation(PAGES)

with st.sidebar:
    st.markdown("### HoldTrack")
    st.caption("Bridges, back extensions and planks, measured at the hip.")
    try:
        n = data.store().session_count()
        n_demo = n - data.store().session_count(include_demo=False)
        st.caption(counted(n, "session") + (f" ({n_demo} demo)" if n_demo else "") + f" · data in `{data.folder()}`")
    except StoreError as e:
        st.error(str(e))
        st.stop()

try:
    page.run()
except StoreError as e:  # e.g. a damaged database met by a page's query: one line, no traceback
    st.error(str(e))
