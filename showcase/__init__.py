"""The one-command demo (`floorwatch demo`): every component together, on embedded defaults.

Its own top-level package because it is the one place that imports every component (simulators,
ingest, analytics, api); nothing imports it. Not named `demo`, which is the demo's output folder.
"""
