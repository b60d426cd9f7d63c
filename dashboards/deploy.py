"""Push the InfluxDB datasource and the dashboards to an existing Grafana (grafana-client).

Idempotent: the datasource, the folder and each dashboard have stable uids, so a second deploy
updates what the first created. Grafana HTTP API calls made (documented legacy /api endpoints):

- GET  /api/datasources/uid/{uid}, then PUT /api/datasources/uid/{uid} or POST /api/datasources
- GET  /api/folders/{uid}, then PUT /api/folders/{uid} (title changed) or POST /api/folders
- POST /api/dashboards/db with {"dashboard", "folderUid", "overwrite": true, "message"}

grafana-client and niquests errors are translated into floorwatch.errors here, at the boundary.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaUnauthorizedError,
)

from dashboards import alerts
from dashboards.build import build_dashboards
from dashboards.model import DATASOURCE_UID, JSON
from floorwatch.errors import AccessDenied, ConfigError, GrafanaError, InvalidRequest, NotFound
from floorwatch.i18n import DEFAULT_LANGUAGE, language
from floorwatch.settings import StoreTarget

DATASOURCE_NAME = "Floorwatch InfluxDB"
DEFAULT_FOLDER = "Floorwatch"


@dataclass
class DeployReport:
    """What a deploy did: per object, 'created' or 'updated'."""

    grafana: str
    datasource: str = ""
    folder: str = ""
    folder_uid: str = ""
    dashboards: dict[str, str] = field(default_factory=dict)  # uid -> created/updated
    urls: dict[str, str] = field(default_factory=dict)  # uid -> Grafana's URL path
    alerts: dict[str, str] = field(default_factory=dict)  # rule, contact point... -> status


def folder_uid(name: str) -> str:
    """A stable folder uid from its name: 'Floorwatch' -> 'floorwatch' (max 40 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    if not slug:
        raise InvalidRequest(f"folder name {name!r} has no letters or digits")
    return slug[:40]


def datasource_model(influxdb: StoreTarget) -> JSON:
    """The datasource as Grafana's API takes it: InfluxQL over the v1-compatible API, with the
    URL as Grafana (not this machine) reaches InfluxDB. A token (InfluxDB 2.x/3.x) goes in an
    Authorization header; a user and password (1.x) in Grafana's encrypted secureJsonData."""
    if influxdb.backend != "influxdb":
        raise ConfigError("the datasource needs an influxdb://... URL, not a SQLite store")
    json_data: JSON = {
        "dbName": influxdb.database,
        "httpMode": "POST",
        "version": "InfluxQL",
        "timeInterval": "10s",
    }
    secure: JSON = {}
    body: JSON = {
        "name": DATASOURCE_NAME,
        "uid": DATASOURCE_UID,
        "type": "influxdb",
        "access": "proxy",
        "url": influxdb.base_url,
        "basicAuth": False,
        "isDefault": False,
        "jsonData": json_data,
        "secureJsonData": secure,
    }
    if influxdb.token:
        json_data["httpHeaderName1"] = "Authorization"
        secure["httpHeaderValue1"] = f"Token {influxdb.token}"
    elif influxdb.username:
        body["user"] = influxdb.username
        secure["password"] = influxdb.password or ""
    return body


@contextmanager
def _grafana_errors(url: str, doing: str) -> Iterator[None]:
    """Translate grafana-client and niquests errors into Floorwatch's, naming what failed."""
    try:
        yield
    except GrafanaUnauthorizedError as exc:
        raise AccessDenied(f"Grafana at {url} refused the token while {doing} (401)") from exc
    except GrafanaClientError as exc:
        if exc.status_code == 403:
            raise AccessDenied(
                f"Grafana at {url}: the token may not do this ({doing}); it needs the Admin role"
            ) from exc
        if exc.status_code == 404:
            raise NotFound(f"Grafana at {url}: not found while {doing}: {exc.message}") from exc
        raise InvalidRequest(
            f"Grafana at {url} rejected {doing}: {exc.status_code} {exc.message}"
        ) from exc
    except GrafanaException as exc:  # 5xx, timeouts, transport errors the client wrapped
        raise GrafanaError(f"Grafana at {url} failed while {doing}: {exc.message}") from exc
    except niquests.exceptions.RequestException as exc:  # connection refused, DNS, TLS
        raise GrafanaError(f"Grafana at {url} is unreachable: {exc}") from exc


def _exists(fetch: Callable[[], Any]) -> bool:
    """Whether a GET finds the object (404 means no; other errors propagate)."""
    try:
        fetch()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return False
        raise
    return True


def deploy(
    url: str,
    token: str,
    influxdb: StoreTarget,
    folder: str = DEFAULT_FOLDER,
    dashboards: dict[str, JSON] | None = None,
    timeout_s: float = 15.0,
    with_alerts: bool = False,
    alert_emails: str | None = None,
    lang: str = DEFAULT_LANGUAGE,
) -> DeployReport:
    """Create or update the datasource, the folder and the dashboards in the Grafana at `url`;
    with `with_alerts` also the alert rules, the school-hours time interval and, given
    `alert_emails`, the e-mail contact point (the notification policy tree is left alone).
    Dashboards and alert texts are in `lang`; their uids are the same in every language, so a
    deploy in another language replaces the texts in place.

    `token` is a Grafana service account token (role Admin, for the datasource).
    """
    if not token:
        raise ConfigError("a Grafana service account token is needed (--token or GRAFANA_TOKEN)")
    if not re.match(r"https?://", url):
        raise ConfigError(f"expected the Grafana URL as http(s)://host[:port], got {url!r}")
    api = GrafanaApi.from_url(url, credential=token, timeout=timeout_s)
    report = DeployReport(grafana=url)
    models = dashboards if dashboards is not None else build_dashboards(lang)

    source = datasource_model(influxdb)
    with _grafana_errors(url, "writing the datasource"):
        if _exists(lambda: api.datasource.get_datasource_by_uid(DATASOURCE_UID)):
            api.datasource.update_datasource_by_uid(DATASOURCE_UID, source)
            report.datasource = "updated"
        else:
            api.datasource.create_datasource(source)
            report.datasource = "created"

    uid = folder_uid(folder)
    report.folder_uid = uid
    with _grafana_errors(url, f"writing the folder {folder!r}"):
        existing: dict[str, Any] | None = None
        try:
            existing = api.folder.get_folder(uid)
        except GrafanaClientError as exc:
            if exc.status_code != 404:
                raise
        if existing is None:
            api.folder.create_folder(folder, uid=uid)
            report.folder = "created"
        else:
            if existing.get("title") != folder:
                api.folder.update_folder(uid, title=folder, overwrite=True)
            report.folder = "updated"

    for model in models.values():
        dashboard_uid = model["uid"]
        with _grafana_errors(url, f"writing the dashboard {dashboard_uid!r}"):
            found = _exists(partial(api.dashboard.get_dashboard, dashboard_uid))
            answer = api.dashboard.update_dashboard(
                {
                    "dashboard": {**model, "id": None},
                    "folderUid": uid,
                    "overwrite": True,
                    "message": "floorwatch dashboards deploy",
                }
            )
        report.dashboards[dashboard_uid] = "updated" if found else "created"
        report.urls[dashboard_uid] = str(answer.get("url", "")) if isinstance(answer, dict) else ""
    if with_alerts:
        with _grafana_errors(url, "writing the alert rules"), language(lang):
            _deploy_alerts(api, uid, alert_emails, report)
    return report


def _deploy_alerts(api: GrafanaApi, folder: str, emails: str | None, report: DeployReport) -> None:
    """Alerting provisioning API (/api/v1/provisioning/...): rules one by one (GET, then PUT or
    POST), their group's evaluation interval, the time interval and the contact point. Sent
    with X-Disable-Provenance so that people may still adjust them in Grafana's UI."""
    provisioning = api.alertingprovisioning
    interval = alerts.school_hours_interval()
    if _exists(partial(provisioning.get_mute_timing, interval["name"])):
        provisioning.update_mute_timing(interval["name"], interval)
        report.alerts[f"time interval {interval['name']}"] = "updated"
    else:
        provisioning.create_mute_timing(interval, disable_provenance=True)
        report.alerts[f"time interval {interval['name']}"] = "created"
    if emails:
        point = alerts.contact_point(emails)
        found = provisioning.get_contactpoints(name=point["name"]) or []
        if found:
            provisioning.update_contactpoint(found[0]["uid"], point, disable_provenance=True)
        else:
            provisioning.create_contactpoint(point, disable_provenance=True)
        report.alerts[f"contact point {point['name']}"] = "updated" if found else "created"
    rules = [
        {**rule, "folderUID": folder, "ruleGroup": alerts.GROUP, "orgID": 1}
        for rule in alerts.rules()
    ]
    for rule in rules:
        if _exists(partial(provisioning.get_alertrule, rule["uid"])):
            provisioning.update_alertrule(rule["uid"], rule, disable_provenance=True)
            report.alerts[f"rule {rule['uid']}"] = "updated"
        else:
            provisioning.create_alertrule(rule, disable_provenance=True)
            report.alerts[f"rule {rule['uid']}"] = "created"
    # A new group gets Grafana's default interval; set the one the rules are written for.
    provisioning.update_rule_group(
        folder,
        alerts.GROUP,
        {
            "title": alerts.GROUP,
            "folderUid": folder,
            "interval": alerts.EVALUATION_INTERVAL_S,
            "rules": rules,
        },
        disable_provenance=True,
    )
