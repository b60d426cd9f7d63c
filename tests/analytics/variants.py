"""Variants of the pilot registry for tests."""

from __future__ import annotations

from datetime import date

from floorwatch.registry import Registry
from floorwatch.registry.schema import Installation

SUPPLIER_BY_MUNICIPALITY = {"trelleborg": "entre-ren", "skurup": "torrgolv", "ystad": "skrapzon"}
INTERVAL_S = 600


def fair_test_registry(pilot: Registry, keep_installations: bool = False) -> Registry:
    """The pilot with sensors reporting every INTERVAL_S and, unless kept, one supplier per
    municipality (entre-ren in Trelleborg, torrgolv in Skurup, skrapzon in Ystad)."""
    installations = (
        list(pilot.document.installations)
        if keep_installations
        else [
            Installation(
                id=f"inst-{entrance.id}",
                entrance=entrance.id,
                supplier=SUPPLIER_BY_MUNICIPALITY[school.municipality],
                contract="skane-entrance-2026",
                start=date(2026, 10, 1),
            )
            for school in pilot.document.schools
            for entrance in school.entrances
            if not entrance.reference
        ]
    )
    # sensors report every 10 minutes here: half the readings, the same physics (test speed)
    schools = [
        school.model_copy(
            update={
                "entrances": [
                    entrance.model_copy(
                        update={
                            "sensors": [
                                s.model_copy(update={"report_interval": INTERVAL_S})
                                for s in entrance.sensors
                            ]
                        }
                    )
                    for entrance in school.entrances
                ]
            }
        )
        for school in pilot.document.schools
    ]
    document = pilot.document.model_copy(
        update={"installations": installations, "schools": schools}
    )
    return Registry(document, "sha256:fairness-test", ["fairness.yaml"])
