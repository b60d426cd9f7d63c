"""Analytics: occupied minutes, sensor health, contract KPIs, counterfactual baselines, scorecards
with bonus/malus, the supplier comparison, weekly trends and the monthly HTML report.

Pipeline per period: readings (store, per month and entrance) -> `health` -> `minutes` (trusted
minute series) -> `kpis` (daily components) -> `baseline` (each installation's counterfactual)
-> `effects` (measured, expected untreated, improvement, bootstrap) -> `payment` (judging) ->
`comparison` -> `scorecard` (documents and store points, `floorwatch.results`) -> `report`.

Public entry points (the API and the CLI use these):
- `analytics.scorecard.Scorer(store, registry).score(period)` -> `PeriodResult` (scorecards,
  comparisons, sensor health, trends); `write_results(store, result, registry)` writes the
  `kpi`, `scorecard`, `comparison`, `sensor_health` and `trend` points.
- `analytics.report.write_report(result, registry, reports_dir)` -> `report-<period>.html`.
- `analytics.pipeline.score_and_publish(scorer, period, reports_dir=...)`: score, write the
  results and the report, as `floorwatch score` and the demo do.
- `analytics.cli.resolve_period(period, first, last)`, `results_json`, `results_csv`.
- periods and local days: `floorwatch.localtime` (`period_bounds("2026-10")` -> [start, end) UTC).
- `analytics.weather.import_weather(store, directory)` for SMHI files.
Stored results are read back with the store's `read_points` (e.g. measurement "scorecard",
tags {"period": "2026-10"}; the field `document` is the canonical scorecard JSON).
"""
