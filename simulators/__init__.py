"""Simulators: realistic school entrances with ground truth, faults, and a commissioning check.

Python API (for analytics tests and benchmarks; the CLI `floorwatch simulate` is a thin layer)::

    from datetime import date
    from floorwatch.registry import load_registry
    from simulators import load_scenario, simulate

    sim = simulate(load_registry(), load_scenario(), date(2026, 9, 28), days=7, seed=1)
    sim.truth        # DataFrame: time (UTC), entrance, zone, moisture %, dirt index, passages
    sim.weather      # {station: hourly DataFrame time, precipitation, air_temperature, snow_depth}
    sim.entrances    # {entrance id: EntranceTruth} numpy arrays per minute, profile periods
    sim.profiles_document()   # the true profile per entrance and period (truth sidecar JSON)
    for topic, payload in sim.messages(): ...   # MQTT messages in send order (payload bytes)
    sim.readings_frame()     # what a collector stores from them (time, sensor_id, kind, value),
    store.write_readings(list(sim.readings()))  # without delivery faults: a store without a broker
    sim.write_jsonl(open("out.jsonl", "w"))     # {"topic": ..., "payload": "<JSON text>"} lines
    sim.write_truth(Path("truth.csv.gz"))       # + truth.json (format: simulators.simulation)
    sim.write_weather(Path("weather"))          # SMHI JSON, one file per station and parameter
    sim.fault_log.counts                        # injected faults (after messages are consumed)

Scenario variations without a file: `load_scenario().model_copy(update={...})`, e.g.
`scenario.without_faults()`, `scenario.faults.only("spikes")`, stations with other wetness.

The same registry, scenario, span and seed give byte-identical messages and truth.
Modules: weather (SMHI-shaped hourly weather), entrance (footfall and floor physics), sensors
(reports, noise, battery), faults, formats (native, SenML, ChirpStack v4, TTS v3), simulation
(the run, truth file), counterfactual (the same run untreated or with another supplier's
solution: true KPIs and effects), publish (MQTT), verify (commissioning), cli.
"""

from simulators.scenario import Profile, Scenario, load_scenario
from simulators.simulation import Simulation, read_truth, simulate

__all__ = ["Profile", "Scenario", "Simulation", "load_scenario", "read_truth", "simulate"]
