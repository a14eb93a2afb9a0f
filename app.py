"""PoseBench dashboard. Run with `streamlit run app.py` (see docs/dashboard.md)."""

from posebench.dashboard import navigation

navigation.run()
