"""Floorwatch: the referee for outcome-based procurement of clean and dry school floors.

This is the shared package: the domain model (readings), the registry and contract schema,
settings, errors, the store adapters and the CLI root. The components (`ingest`, `simulators`,
`analytics`, `api`, `dashboards`) depend on it; it depends on none of them.
"""

__version__ = "0.1.0"
