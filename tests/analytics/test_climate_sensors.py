"""A climate sensor (own kind temperature or humidity, such as the pilot's EM300-TH at
yst-ostra-main) is registered and stored, but plays no role in any KPI, so it counts in no
KPI's data availability."""

from __future__ import annotations

from analytics.entrance import role_sensors
from floorwatch.readings import MEASURED_KINDS
from floorwatch.registry import Registry


def test_a_climate_sensor_plays_no_kpi_role(registry: Registry) -> None:
    entrance, _ = registry.entrance("yst-ostra-main")
    climate = [s for s in entrance.sensors if s.kind not in MEASURED_KINDS]
    assert [s.id for s in climate] == ["yst-ostra-main-entry-climate"]
    roles = role_sensors(entrance)
    assert all(sensor.kind in MEASURED_KINDS for sensor in roles.values())
    without = entrance.model_copy(
        update={"sensors": [s for s in entrance.sensors if s not in climate]}
    )
    assert role_sensors(without) == roles
