"""The dashboard's pages, in one table: file, sidebar label, icon and what the page is for.

Navigation (sidebar and the home page's list) and every link between pages are
built from this table; a page that is not here does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[3]  # the folder holding app.py and pages/


@dataclass(frozen=True)
class PageEntry:
    key: str
    file: str  # relative to APP_DIR
    label: str
    icon: str
    purpose: str  # one sentence on the home page


PAGES: tuple[PageEntry, ...] = (
    PageEntry(
        "clip",
        "clip",
        "1 · Clip",
        ":material/movie:",
        "Choose a clip: upload your own video or pick a bundled sample.",
    ),
    PageEntry(
        "run",
        "run",
        "2 · Run",
        ":material/play_arrow:",
        "Pick the backends and their settings, then run; each backend gets the same frames.",
    ),
    PageEntry(
        "compare",
        "compare",
        "3 · Compare",
        ":material/compare:",
        "See the same frame with every backend's skeleton, and an overlay video.",
    ),
    PageEntry(
        "charts",
        "charts",
        "4 · Charts",
        ":material/bar_chart:",
        "Speed, time per frame, its spread, and where the time goes.",
    ),
    PageEntry(
        "accuracy",
        "accuracy",
        "5 · Accuracy",
        ":material/straighten:",
        "How closely the backends agree, how steady they are, any lag between them, "
        "and the jump metrics (take-off, flight time, jump height) each one gives.",
    ),
    PageEntry(
        "scorecard",
        "scorecard",
        "6 · Scorecard",
        ":material/gavel:",
        "The answer for this run: replace, keep or undecided, and why; accuracy against "
        "the jump's reference, detection and speed, each with its measured value and rule; "
        "thresholds editable and saved with the run.",
    ),
    PageEntry(
        "results",
        "results",
        "Results",
        ":material/folder_open:",
        "Saved runs: open, compare side by side, import from another machine, delete.",
    ),
    PageEntry(
        "explorer",
        "explorer",
        "Explorer",
        ":material/tune:",
        "Sweep the speed levers on your clip and find the fastest configuration that "
        "still agrees with the baseline.",
    ),
    PageEntry(
        "study",
        "study",
        "Study",
        ":material/science:",
        "Many jumps against their references: bias, limits of agreement and ICC per backend, "
        "and the verdict they support.",
    ),
)
BY_KEY = {page.key: page for page in PAGES}
