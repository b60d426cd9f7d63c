"""dashboards component."""
