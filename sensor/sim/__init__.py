"""The synthetic board and evaluation: the simulated wearer (body, routine, sensor model,
technique catalogue), demo data, and scoring the detector against truth or the user's labels.
"""
