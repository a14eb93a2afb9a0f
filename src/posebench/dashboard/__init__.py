"""Streamlit helpers of the PoseBench dashboard: shared state, widgets, caching.

The pages are thin views: they read and write the shared state through
``dashboard.state`` and call the engine (``bench``, ``backends``); no
benchmark logic lives here or in a page.
"""
