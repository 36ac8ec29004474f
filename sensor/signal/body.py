"""Body frame, postures and mounting: the geometry shared by the simulator and the pipeline.

Body (pelvis) frame: x to the wearer's right, y superior (toward the head), z posterior
(out of the back). The device is worn on the back of the pelvis with its +z roughly
posterior, rotated anywhere within that plane and tilted up to ~20°.

``up`` below is the unit vector of world "up" expressed in the body frame; at rest the
accelerometer reads ``g * up`` (specific force), so ``up`` is what the pipeline estimates.
"""

from __future__ import annotations

import numpy as np

from sensor.vocab import MOUNTS

# World "up" in the body frame for each resting posture.
UP_STANDING = np.array([0.0, 1.0, 0.0])
UP_SUPINE = np.array([0.0, 0.0, -1.0])  # lying on the back: the front faces up
UP_PRONE = np.array([0.0, 0.0, 1.0])  # face down: the back faces up
UP_SIDE_LEFT = np.array([1.0, 0.0, 0.0])  # lying on the left side: the right side faces up
UP_SIDE_RIGHT = np.array([-1.0, 0.0, 0.0])


def elevation_rate(up: np.ndarray, gyr: np.ndarray) -> np.ndarray:
    """Body rate (rad/s) about the axis whose positive rotation raises the superior (head)
    end, per row: ``gyr`` dotted with ``y × up`` normalised, i.e. ``(uz, 0, -ux) / n``.
    Zero where the long axis is within ~12° of vertical (``|(ux, uz)| <= 0.2``), where
    that axis is not defined well."""
    ux, uz = up[:, 0], up[:, 2]
    level = np.hypot(ux, uz) > 0.2
    n = np.sqrt(np.where(level, uz * uz + ux * ux, 1.0))
    rate: np.ndarray = np.where(level, gyr[:, 0] * (uz / n) + gyr[:, 2] * -(ux / n), 0.0)
    return rate


def elevation_deg(up: np.ndarray) -> np.ndarray:
    """Elevation of the superior axis above the horizontal, degrees (n,) or scalar."""
    deg: np.ndarray = np.degrees(np.arcsin(np.clip(up[..., 1], -1.0, 1.0)))
    return deg


def rotation_matrix(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rodrigues' formula for one rotation (3, 3)."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    r: np.ndarray = np.eye(3) + np.sin(angle_rad) * K + (1 - np.cos(angle_rad)) * (K @ K)
    return r


# Where the sensor can be worn: the body axis its face (device +z) points along.
MOUNT_FACE = {
    "back": np.array([0.0, 0.0, 1.0]),  # back of the pelvis, face posterior (the default)
    "front": np.array([0.0, 0.0, -1.0]),  # front of the belt, face anterior
    "left": np.array([-1.0, 0.0, 0.0]),  # left hip, face to the left
    "right": np.array([1.0, 0.0, 0.0]),  # right hip, face to the right
}
assert tuple(MOUNT_FACE) == MOUNTS  # one geometry per mounting of the vocabulary

# Where each mounting sits relative to the back of the pelvis, body frame (x right, y up the
# trunk, z out of the back): the belt's front ~0.22 m ahead of the sacrum (waist depth
# 0.20-0.26 m), the hips ~0.16 m to each side and 0.08 m forward (iliac crests 0.28-0.34 m
# apart). A sensor elsewhere than the back feels the pelvis's turns as lever-arm
# accelerations, and rises less in a bridge: lying supine it sits ``-z`` above the back,
# and a turn of the pelvis by θ lowers it by ``-z (1 - cos θ)`` against the back.
LEVER_M = {
    "back": (0.0, 0.0, 0.0),
    "front": (0.0, 0.02, -0.22),
    "left": (-0.16, 0.02, -0.08),
    "right": (0.16, 0.02, -0.08),
}
assert tuple(LEVER_M) == MOUNTS


def _frame(y: np.ndarray, face: np.ndarray, mount: str) -> np.ndarray:
    """Rows = body axes in device coordinates, from body y and the face direction (both
    in device coordinates)."""
    f = face - (face @ y) * y
    f /= np.linalg.norm(f)
    axis = MOUNT_FACE[mount]
    if axis[2]:  # face along body ±z
        z = f * axis[2]
        x = np.cross(y, z)
    else:  # face along body ±x
        x = f * axis[0]
        z = np.cross(x, y)
    return np.stack([x, y, z])


def default_mounting(mount: str = "back") -> np.ndarray:
    """Device-to-body rotation before any calibration: the face as worn, device y taken as
    up (the rotation within the mounting plane is unknown until the stand)."""
    return _frame(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), mount)


def mounting_from_standing(up_device: np.ndarray, mount: str = "back") -> np.ndarray:
    """Device-to-body rotation ``M`` (body = M @ device) learnt from a still stand.

    Standing, world up is the body's superior axis, so the measured up vector gives body y
    in device coordinates. The device face (+z) made orthogonal to it gives the body axis
    it is worn along (``MOUNT_FACE``); a tilt about the vertical cannot be seen from
    gravity and stays as a small error, which the pipeline tolerates by measuring
    everything relative to rest.
    """
    y = up_device / np.linalg.norm(up_device)
    face = np.array([0.0, 0.0, 1.0])
    if np.linalg.norm(face - y[2] * y) < 0.3:  # face almost vertical: not as worn; fall back
        face = np.array([1.0, 0.0, 0.0])
    return _frame(y, face, mount)
