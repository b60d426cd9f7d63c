"""simulators component."""
