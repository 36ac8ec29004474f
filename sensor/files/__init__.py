"""Files, stored bytes to samples: the generic CSV (``csvread``, ``inputs``), phone exports,
app exports, and the one boundary every reader shares (``validate``, ``checks``, ``limits``).
"""
