"""First-order recursions over long minute series, vectorised (no per-minute Python loop).

Drying floors, outside wetness and weather anomalies all follow x[t] = a[t] x[t-1] + b[t]
with a time-varying decay a (from a half-life that depends on temperature and the solution).
"""

from __future__ import annotations

import math

import numpy as np


def decay_series(a: np.ndarray, inflow: np.ndarray, x0: float = 0.0, chunk: int = 60) -> np.ndarray:
    """x[t] = a[t] x[t-1] + inflow[t], vectorised: closed form within chunks, carried between.

    `a` must be in (0, 1]; values below exp(-10) are raised to it (gone within a minute anyway).
    """
    n = len(a)
    chunks = -(-n // chunk)
    pad = chunks * chunk - n
    log_a = np.log(np.clip(np.concatenate([a, np.ones(pad)]), math.exp(-10), 1.0))
    b = np.concatenate([inflow, np.zeros(pad)])
    cum = np.cumsum(log_a.reshape(chunks, chunk), axis=1)
    gain = np.exp(cum)  # product of a over the chunk up to t
    response = gain * np.cumsum(b.reshape(chunks, chunk) * np.exp(-cum), axis=1)
    starts = np.empty(chunks)
    level = x0
    last_gain, last_response = gain[:, -1].tolist(), response[:, -1].tolist()
    for c in range(chunks):
        starts[c] = level
        level = last_gain[c] * level + last_response[c]
    return (gain * starts[:, None] + response).reshape(-1)[:n]
