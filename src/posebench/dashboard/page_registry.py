"""The dashboard's pages, in one table: module, address, sidebar label, icon and what the page is for.

Navigation (sidebar and the home page's list) and every link between pages are
built from this table; a page that is not here does not exist.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    key: str  # also the module in posebench.dashboard.pages that draws it (its render())
    url_path: str  # the page's address after the server's; kept from the old page files, so links last
    label: str
    icon: str
    purpose: str  # one sentence on the home page

    def render(self) -> Callable[[], None]:
        """The page's drawing function, imported when first needed."""
        module = importlib.import_module(f"posebench.dashboard.pages.{self.key}")
        return module.render


PAGES: tuple[PageEntry, ...] = (
    PageEntry(
        "clip",
        "Clip",
        "1 · Clip",
        ":material/movie:",
        "Choose a clip: upload your own video or pick a bundled sample.",
    ),
    PageEntry(
        "run",
        "Run",
        "2 · Run",
        ":material/play_arrow:",
        "Pick the backends and their settings, then run; each backend gets the same frames.",
    ),
    PageEntry(
        "compare",
        "Compare",
        "3 · Compare",
        ":material/compare:",
        "See the same frame with every backend's skeleton, and an overlay video.",
    ),
    PageEntry(
        "charts",
        "Charts",
        "4 · Charts",
        ":material/bar_chart:",
        "Speed, time per frame, its spread, and where the time goes.",
    ),
    PageEntry(
        "accuracy",
        "Accuracy",
        "5 · Accuracy",
        ":material/straighten:",
        "How closely the backends agree, how steady they are, any lag between them, "
        "and the jump metrics (take-off, flight time, jump height) each one gives.",
    ),
    PageEntry(
        "scorecard",
        "Scorecard",
        "6 · Scorecard",
        ":material/gavel:",
        "The answer for this run: replace, keep or undecided, and why; accuracy against "
        "the jump's reference, detection and speed, each with its measured value and rule; "
        "thresholds editable and saved with the run.",
    ),
    PageEntry(
        "results",
        "Results",
        "Results",
        ":material/folder_open:",
        "Saved runs: open, compare side by side, import from another machine, delete.",
    ),
    PageEntry(
        "explorer",
        "Explorer",
        "Explorer",
        ":material/tune:",
        "Sweep the speed levers on your clip and find the fastest configuration that "
        "still agrees with the baseline.",
    ),
    PageEntry(
        "study",
        "Study",
        "Study",
        ":material/science:",
        "Many jumps against their references: bias, limits of agreement and ICC per backend, "
        "and the verdict they support.",
    ),
    PageEntry(
        "live",
        "Live",
        "Live",
        ":material/videocam:",
        "Your camera with one backend's skeleton, or two side by side: frames per second, "
        "frames dropped and how old the skeleton is, live.",
    ),
)
BY_KEY = {page.key: page for page in PAGES}
