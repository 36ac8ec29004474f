"""The signal path, samples to events: resample (50 Hz grid) -> orientation (stand calibration,
gravity, elevation) -> posture -> movement and detectors (reps and holds) -> stability,
composed by ``pipeline``. No I/O and no clock of its own.
"""
