"""Posture from the gravity direction in the body frame."""

from __future__ import annotations

import numpy as np

UNKNOWN, STANDING, SITTING, SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT = range(7)
LYING = (SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT)


def classify_posture(up: np.ndarray, calibrated: bool, mount: str = "back") -> np.ndarray:
    """Posture code per sample from ``up`` (world up in body coordinates), (m,) int8.

    Upright when the long axis is within ~45° of vertical; sitting when the pelvis is
    also rolled back (up vector toward the front). Lying postures by which body face is
    uppermost. Uncalibrated, the device's rotation in the back plane is unknown, so only
    face-up/face-down can be told (lying on either side, for a sensor worn on a hip);
    everything else is ``unknown``.
    """
    ux, uy, uz = up[:, 0], up[:, 1], up[:, 2]
    out = np.full(up.shape[0], UNKNOWN, np.int8)
    if not calibrated:
        if mount in ("left", "right"):  # the device face is the body's left-right axis
            out[ux > 0.8] = SIDE_LEFT
            out[ux < -0.8] = SIDE_RIGHT
        else:
            out[uz < -0.8] = SUPINE
            out[uz > 0.8] = PRONE
        return out
    upright = uy > 0.7
    out[upright & (uz > -0.35)] = STANDING
    out[upright & (uz <= -0.35)] = SITTING
    lying = uy < 0.6
    face = np.argmax(np.stack([-uz, uz, ux, -ux], axis=1), axis=1)
    codes = np.array([SUPINE, PRONE, SIDE_LEFT, SIDE_RIGHT], np.int8)
    out[lying] = codes[face[lying]]
    return out
