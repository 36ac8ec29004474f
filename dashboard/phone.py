"""Phone-width (390 px) layout for every page: one style block, injected by ``app.py``.

Streamlit already stacks columns below 640 px; what is left is content wider than the
screen: charts drawn at a fixed width (faceted charts) are scaled down to fit, metric
values shrink a little, the page's side padding is smaller.
"""

from __future__ import annotations

import streamlit as st

PHONE_MAX_PX = 640  # Streamlit's own breakpoint for stacking columns

CSS = f"""<style>
@media (max-width: {PHONE_MAX_PX}px) {{
  .block-container, [data-testid="stMainBlockContainer"] {{ padding-left: 1rem; padding-right: 1rem; }}
  [data-testid="stVegaLiteChart"], .vega-embed {{ max-width: 100%; overflow: hidden; }}
  .vega-embed > svg, .vega-embed > canvas {{ max-width: 100% !important; height: auto !important; }}
  div[data-testid="stMetricValue"] {{ font-size: 1.8rem; }}
}}
</style>"""


def style() -> None:
    st.html(CSS)
