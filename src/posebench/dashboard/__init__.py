"""The PoseBench dashboard (Streamlit): the pages (``dashboard.pages``, one ``render()`` each,
listed in ``dashboard.page_registry``; ``app.py`` only navigates) and their helpers: the session's
state (``state``), widgets, tables, the background jobs (``jobs``: timing runs in a worker
process, ``engine.worker``) and sign-in (``auth``).

The pages are thin views: they read and write the session through ``dashboard.state`` and
call the library below them (``studies``, ``decision``, ``analysis``, ``store``, ``engine``,
``backends``); no benchmark logic lives here or in a page.
"""
