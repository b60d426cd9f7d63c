"""`floorwatch dashboards ...`: regenerate the Grafana files, deploy to an existing Grafana."""

from __future__ import annotations

from typing import Annotated

import typer

from dashboards.build import HERE, rendered_files, write_all
from dashboards.deploy import DEFAULT_FOLDER, deploy
from floorwatch.errors import ConfigError
from floorwatch.i18n import check_language, languages
from floorwatch.registry import load_registry
from floorwatch.settings import load_settings

app = typer.Typer(
    help="Grafana dashboards, provisioning and alert rules.\n\n"
    "Example: floorwatch dashboards deploy --url https://grafana.example.se --token glsa_...",
    no_args_is_help=True,
)


@app.command("build")
def build(
    check: Annotated[
        bool,
        typer.Option("--check", help="Only check that the committed files are up to date."),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help=f"Only this language ({', '.join(languages())}); default all."),
    ] = None,
) -> None:
    """Regenerate dashboards/json/<lang>/*.json and dashboards/provisioning/<lang>/ from
    dashboards/*.py, one set per language.

    Example: floorwatch dashboards build --lang sv
    """
    langs = (check_language(lang),) if lang else None
    if check:
        stale = [
            p
            for p, text in rendered_files(langs).items()
            if not p.exists() or p.read_text() != text
        ]
        for path in stale:
            typer.echo(f"stale: {path.relative_to(HERE.parent)}")
        if stale:
            raise ConfigError(
                f"{len(stale)} generated files are stale: run floorwatch dashboards build"
            )
        typer.echo("dashboards: generated files are up to date")
        return
    changed = write_all(langs)
    for path in changed:
        typer.echo(f"wrote {path.relative_to(HERE.parent)}")
    typer.echo(f"dashboards: {len(changed)} files changed, {len(rendered_files(langs))} generated")


@app.command("deploy")
def deploy_command(
    url: Annotated[
        str,
        typer.Option("--url", envvar="GRAFANA_URL", help="Grafana base URL, http(s)://host:port."),
    ],
    token: Annotated[
        str,
        typer.Option(
            "--token",
            envvar="GRAFANA_TOKEN",
            help="Grafana service account token (role Admin); better in GRAFANA_TOKEN.",
        ),
    ],
    folder: Annotated[
        str, typer.Option("--folder", help="Grafana folder for the dashboards.")
    ] = DEFAULT_FOLDER,
    influxdb_url: Annotated[
        str | None,
        typer.Option(
            "--influxdb-url",
            envvar="FLOORWATCH_GRAFANA_INFLUXDB_URL",
            help=(
                "InfluxDB as Grafana reaches it, influxdb://reader:password@host:8086/db "
                "(or ?token=...); default FLOORWATCH_STORE_URL."
            ),
        ),
    ] = None,
    with_alerts: Annotated[
        bool,
        typer.Option(
            "--alerts/--no-alerts",
            help="Also the facility managers' alert rules and the school-hours time interval.",
        ),
    ] = False,
    alert_emails: Annotated[
        str | None,
        typer.Option(
            "--alert-emails",
            envvar="FLOORWATCH_ALERT_EMAILS",
            help="With --alerts: e-mail addresses (comma-separated) for the contact point.",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=f"Language of the dashboards and alerts ({', '.join(languages())}); "
            "default: the one the registry's contracts name.",
        ),
    ] = None,
) -> None:
    """Create or update the InfluxDB datasource and the four dashboards in an existing Grafana.

    Safe to run again: everything has a stable uid, so a second run updates in place.

    Example: floorwatch dashboards deploy --url http://grafana:3000 --token "$GRAFANA_TOKEN"
    """
    settings = load_settings(store_url=influxdb_url)
    target = settings.store
    if target.backend != "influxdb":
        raise ConfigError(
            "--influxdb-url (or FLOORWATCH_STORE_URL): Grafana reads InfluxDB, "
            f"got a {target.backend} store"
        )
    chosen = check_language(lang) if lang else load_registry(settings.registry).language
    report = deploy(
        url,
        token,
        target,
        folder=folder,
        with_alerts=with_alerts,
        alert_emails=alert_emails,
        lang=chosen,
    )
    typer.echo(f"datasource {report.datasource}: uid floorwatch-influxdb -> {target.base_url}")
    typer.echo(f"folder {report.folder}: {folder!r} (uid {report.folder_uid})")
    for uid, status in report.dashboards.items():
        where = report.urls.get(uid) or ""
        typer.echo(f"dashboard {status}: {uid} {where}".rstrip())
    for name, status in report.alerts.items():
        typer.echo(f"{name} {status}")
    if with_alerts:
        typer.echo(
            "alert notifications: route the label floorwatch_alert (inner-floor-wet, "
            "sensor-silent) to the contact point floorwatch-facility in your notification "
            "policy, inner-floor-wet active in the time interval floorwatch-school-hours"
        )
    typer.echo(f"deployed {len(report.dashboards)} dashboards ({chosen}) to {report.grafana}")
