"""A third estimator family as another package would ship it, for tests/test_family_plugin.py.

``StillPose`` reports one fixed skeleton (Halpe-26) on every frame, placed by one lever. It
is registered only through the entry point that the test writes (``posebench.families``:
``stillpose = plugin_family:FAMILY``); nothing in PoseBench names it.
"""

from .family import FAMILY, StillPoseFamily, StillPoseLevers

__all__ = ["FAMILY", "StillPoseFamily", "StillPoseLevers"]
