"""Registry and contracts: schema, loader and the runtime view."""

from floorwatch.registry.loader import PILOT, load_registry
from floorwatch.registry.model import Registry, SensorPlace

__all__ = ["PILOT", "Registry", "SensorPlace", "load_registry"]
