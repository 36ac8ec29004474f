"""The one stability vocabulary: the words the CLI, the session page and the live view use
for a hold's score (``sensor.stability.stability_score``) and its sag."""

from __future__ import annotations

# (lowest score, words), best first; the score bands of contract.md's 0-100 score.
STABILITY_WORDS: tuple[tuple[float, str], ...] = (
    (80.0, "rock steady"),
    (60.0, "steady, a little sway"),
    (40.0, "wobbly: brace the abdominals and breathe"),
    (0.0, "shaky: try a shorter hold, or knees down"),
)
SAG_NOTE_DEG = 5.0  # hips sinking this much over a hold is worth a cue


def stability_label(score: float) -> str:
    """The words for a score, lower case ("rock steady")."""
    return next(words for low, words in STABILITY_WORDS if score >= low) if score >= 0 else STABILITY_WORDS[-1][1]


def stability_words(score: float, sag_deg: float | None = None) -> str:
    """A sentence for a hold ("Rock steady; hips sank 6° toward the end, ...")."""
    words = stability_label(score)
    words = words[0].upper() + words[1:]
    if sag_deg is not None and sag_deg >= SAG_NOTE_DEG:
        words += f"; hips sank {sag_deg:.0f}° toward the end, lift them back into a line"
    return words
