"""What the vendor decoders of common entrance sensors output, so `registry validate` can warn
about a mapped path that a device's decoder never produces (a typo would otherwise just never
give a reading).

Models are named as in The Things Network's device repository (github.com/TheThingsNetwork/
lorawan-devices, `vendor/<vendor>/<model>`). Each lists the decoded paths its decoder outputs
(from the vendor's decoder and README examples) and, where the decoder says, the unit: a
field in volts must be mapped with `unit: V`. `[*]` stands for every element of a list.
"""

from __future__ import annotations

from floorwatch.registry.schema import PathStep, parse_path

_MILESIGHT_LEAK = {
    "battery": "%",
    "temperature": "Cel",
    "humidity": "%RH",
    "leakage_status": None,
    "history[*].timestamp": None,
    "history[*].temperature": "Cel",
    "history[*].humidity": "%RH",
    "history[*].leakage_status": None,
}

DEVICE_FIELDS: dict[str, dict[str, str | None]] = {
    # Milesight-IoT/SensorDecoders EM300-SLD/ZLD README; lorawan-devices em300-sld-codec.yaml
    "milesight-iot/em300-sld": _MILESIGHT_LEAK,
    "milesight-iot/em300-zld": _MILESIGHT_LEAK,
    "milesight-iot/em300-th": {
        "battery": "%",
        "temperature": "Cel",
        "humidity": "%RH",
        "history[*].timestamp": None,
        "history[*].temperature": "Cel",
        "history[*].humidity": "%RH",
    },
    # Milesight-IoT/SensorDecoders ws-series/ws303/README.md
    "milesight-iot/ws303": {"battery": "%", "leakage_status": None},
    # lorawan-devices vendor/milesight-iot/vs133-codec.yaml (lines 1 to 4, nested per line)
    "milesight-iot/vs133": {
        f"line_{n}.{what}": "count"
        for n in range(1, 5)
        for what in ("total_in", "total_out", "period_in", "period_out")
    },
    # Milesight-IoT/SensorDecoders VS_Series/VS350/README.md
    "milesight-iot/vs350": {
        "battery": "%",
        "temperature": "Cel",
        "total_in": "count",
        "total_out": "count",
        "period_in": "count",
        "period_out": "count",
        "history[*].timestamp": None,
        "history[*].period_in": "count",
        "history[*].period_out": "count",
        "history[*].total_in": "count",
        "history[*].total_out": "count",
    },
    # lorawan-devices vendor/dragino/lwl02.js (MOD 2: water leak mode)
    "dragino/lwl02": {
        "BAT_V": "V",
        "MOD": None,
        "WATER_LEAK_STATUS": None,
        "WATER_LEAK_TIMES": "count",
        "LAST_WATER_LEAK_DURATION": None,
        "DOOR_OPEN_STATUS": None,
        "ALARM": None,
    },
    # lorawan-devices vendor/dragino/lwl03a-codec.yaml
    "dragino/lwl03a": {
        "TDC": None,
        "ALARM": None,
        "WATER_LEAK_STATUS": None,
        "WATER_LEAK_TIMES": "count",
        "LAST_WATER_LEAK_DURATION": None,
        "TIME": None,
        "BAT": "V",
    },
    # lorawan-devices vendor/elsys/ems-codec.yaml
    "elsys/ems": {
        "temperature": "Cel",
        "humidity": "%RH",
        "x": None,
        "y": None,
        "z": None,
        "pulse1": "count",
        "pulseAbs": "count",
        "waterleak": None,
        "vdd": "mV",
    },
    # lorawan-devices vendor/browan/tbwl100-codec.yaml
    "browan/tbwl100": {
        "battery": "V",
        "humidity": "%RH",
        "humidityChanged": None,
        "status": None,
        "temperature": "Cel",
        "temperatureBoard": "Cel",
        "temperatureChanged": None,
    },
    # lorawan-devices vendor/imbuildings/imbuildings-codec.yaml (people counter)
    "imbuildings/people-counter": {
        "battery_voltage": "V",
        "counter_a": "count",
        "counter_b": "count",
        "total_counter_a": "count",
        "total_counter_b": "count",
        "device_status": None,
        "sensor_status": None,
        "payload_counter": None,
    },
}


def _generic(path: tuple[PathStep, ...]) -> tuple[PathStep, ...]:
    return tuple(-1 if isinstance(step, int) else step for step in path)


def known_paths(model: str) -> dict[tuple[PathStep, ...], str | None] | None:
    """The model's decoded paths (list indices as [*]) with their units; None if not known."""
    fields = DEVICE_FIELDS.get(model)
    if fields is None:
        return None
    return {_generic(parse_path(path)): unit for path, unit in fields.items()}


def mapped_path(records: str | None, name: str) -> tuple[PathStep, ...]:
    """A mapped field's full path in the payload (inside its records, if any), indices as [*]."""
    prefix = parse_path(records) if records is not None else ()
    if prefix and prefix[-1] != -1:
        prefix = (*prefix, -1)  # `history` and `history[*]` both mean every record
    return _generic((*prefix, *parse_path(name)))
