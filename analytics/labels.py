"""The names readers see for KPIs, statuses, judging bases and sensor-health reasons, marked for
the catalogue (floorwatch/locale): translate them with `floorwatch.i18n.gettext` where they are
shown. Plain data, so that the API's views use them without loading the report's charting.
"""

from __future__ import annotations

from floorwatch.i18n import N_
from floorwatch.i18n import gettext as _

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
    "not_judged": N_("not judged"),
    "not_in_contract": N_("not in the contract"),
}
JUDGED_ON_LABELS = {  # what a KPI was judged on (analytics.payment.Judgement.judged_on)
    "improvement": N_("improvement"),
    "measured": N_("measured level"),
    "measured_with_relief": N_("measured level with weather relief"),
    "no_events": N_("no wet episodes"),
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


def kpi_name(kpi: str) -> str:
    """A KPI's name in the current language (an unknown one as it is)."""
    return _(KPI_LABELS[kpi][0]) if kpi in KPI_LABELS else kpi


def status_label(status: str) -> str:
    """A KPI's or a sensor's status in the current language."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status


def judged_on_label(judged_on: str) -> str:
    """What a KPI was judged on, in the current language (nothing: empty)."""
    return _(JUDGED_ON_LABELS[judged_on]) if judged_on in JUDGED_ON_LABELS else judged_on


def reason_label(reason: str) -> str:
    """A sensor-health reason in the current language."""
    return _(REASON_LABELS[reason]) if reason in REASON_LABELS else reason
