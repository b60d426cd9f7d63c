"""The outcome model's training targets and weights, on hand-made days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analytics.fairness import FEATURES, daily_targets, fit_outcome_model
from analytics.kpis import COMPONENTS, Kpi


def _days(upstream: list[float], inner: list[float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = len(upstream)
    daily = pd.DataFrame(
        {name: np.full(n, 400.0) for name in COMPONENTS},
        index=pd.Index(np.arange(np.datetime64("2026-10-05"), np.datetime64("2026-10-05") + n)),
    )
    daily["dry_minutes"] = 300.0
    daily["upstream_buildup"] = upstream
    daily["inner_buildup"] = inner
    episodes = pd.DataFrame({"day": daily.index[:1], "minutes": [30.0]})
    return daily, episodes


def test_a_day_without_build_up_upstream_says_nothing_about_capture() -> None:
    # 1e-9 points of build-up outside and 0.5 inside: a capture of -5e8, from noise
    daily, episodes = _days([20.0, 25.0, 1e-9, 30.0], [5.0, 5.0, 0.5, 6.0])
    targets = daily_targets(daily, episodes)
    capture = targets[str(Kpi.DIRT_CAPTURE)].to_numpy()
    weight = targets[f"{Kpi.DIRT_CAPTURE}_weight"].to_numpy()
    assert np.isnan(capture[2]) and weight[2] == 0.0
    assert capture[[0, 1, 3]] == pytest.approx([0.75, 0.8, 0.8])
    assert weight[[0, 1, 3]].tolist() == [20.0, 25.0, 30.0]
    dry = targets[str(Kpi.DRY_TIME_SHARE)].to_numpy()
    assert dry == pytest.approx([0.75] * 4)  # the other KPIs keep that day


def test_the_model_weighs_days_as_the_kpi_does() -> None:
    rng = np.random.default_rng(1)
    n = 60
    training = pd.DataFrame({name: rng.uniform(0, 10, n) for name in FEATURES})
    kpi = str(Kpi.DIRT_CAPTURE)
    training[kpi] = 0.7
    training[f"{kpi}_weight"] = 50.0
    training.loc[7, kpi] = -1e9  # a wild day that counts for (almost) nothing in the KPI
    training.loc[7, f"{kpi}_weight"] = 1e-9
    model = fit_outcome_model(training, seed=0)
    predicted = model.predict(training)[Kpi.DIRT_CAPTURE].to_numpy()
    assert np.all(np.abs(predicted - 0.7) < 0.05)  # unweighted: off by 1e5 to 1e8
