"""Grafana for Floorwatch: four dashboards, provisioning and alert rules, generated from Python.

- `dashboards.model`: small builders for Grafana's dashboard JSON model (InfluxQL targets).
- `dashboards.build`: the dashboards (Entrance live, Wear and work environment, Supplier
  outcomes, Operations) and the provisioning files; `floorwatch dashboards build` writes
  `dashboards/json/*.json` and `dashboards/provisioning/**.yaml` (committed, checked by a test).
- `dashboards.alerts`: the facility managers' alert rules; N and M are set there, once.
- `dashboards.deploy`: push the datasource, the dashboards (and the alerts) to an existing
  Grafana with grafana-client: `floorwatch dashboards deploy`.
"""
