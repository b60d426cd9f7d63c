"""analytics component."""
