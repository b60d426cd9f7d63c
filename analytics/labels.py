"""The names readers see for KPIs, statuses and sensor-health reasons, marked for the catalogue
(floorwatch/locale): translate them with `floorwatch.i18n.gettext` where they are shown. Plain
data, so that the API's views use them without loading the report's charting.
"""

from __future__ import annotations

from floorwatch.i18n import N_

# KPI -> (name, unit, how its value is written: percent, minutes or number)
KPI_LABELS = {
    "dry_time_share": (N_("Dry time share"), N_("share of occupied minutes"), "percent"),
    "clean_time_share": (N_("Clean time share"), N_("share of occupied minutes"), "percent"),
    "wet_recovery_p90": (N_("Wet recovery (p90)"), N_("minutes"), "minutes"),
    "slip_exposure": (N_("Slip exposure"), N_("wet passages per 1,000"), "number"),
    "dirt_capture": (N_("Dirt capture"), N_("share"), "percent"),
    "data_availability": (N_("Data availability"), N_("received / expected"), "percent"),
}
STATUS_LABELS = {
    "pass": N_("pass"),
    "fail": N_("fail"),
    "insufficient": N_("insufficient"),
    "ok": N_("ok"),
    "suspect": N_("suspect"),
    "silent": N_("silent"),
}
REASON_LABELS = {  # analytics.health's reasons for not trusting a sensor's readings
    "out_of_range": N_("out of range"),
    "stuck": N_("stuck"),
    "spike": N_("spike"),
    "gap": N_("gap"),
    "clock": N_("clock"),
    "implausible": N_("implausible"),
    "no_readings": N_("no readings"),
    "low_availability": N_("low availability"),
}
