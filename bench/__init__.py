"""Benchmarks: Floorwatch measured on the machine it runs on, against its speed targets.

`python -m bench` runs every section (ingest, simulate, score, api), prints a table and writes
bench/results/latest.json; `--quick` is a small smoke run, `--only` picks sections.
"""
