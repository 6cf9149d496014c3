"""CLI of the executive summary: `headroom summary`. register() adds it to the headroom command."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from cli.output import Output, db_session, emit, out


def register(cli: typer.Typer) -> None:
    """Add `headroom summary` to cli."""
    cli.command("summary")(summary_command)


def summary_command(
    output: Annotated[Output, typer.Option("--output", "-o", help="table or json")] = Output.table,
) -> None:
    """Executive summary: identified vs realised savings, next quarter's forecast spend, spend month to date."""
    from services.recommend.outcomes import summary

    with db_session() as session:
        data = summary(session)
    if output is Output.json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if output is Output.csv:
        emit(
            data["by_kind"],
            (
                "kind",
                "count",
                "identified_monthly_list",
                "identified_monthly_effective",
                "verified",
                "realised_monthly",
            ),
            output,
        )
        return
    out.print(
        f"identified savings: {data['identified_monthly_savings_effective']:,.2f} USD/month effective "
        f"({data['identified_monthly_savings_list']:,.2f} at list); realised: "
        f"{data['realised_monthly_savings']:,.2f} USD/month"
    )
    emit(
        data["by_kind"],
        ("kind", "count", "identified_monthly_list", "identified_monthly_effective", "verified", "realised_monthly"),
        Output.table,
    )
    fq, mtd = data["forecast_next_quarter"], data["spend_month_to_date"]
    if fq["available"]:
        band = f" (80%: {fq['lo80']:,.2f} – {fq['hi80']:,.2f})" if "lo80" in fq else ""
        out.print(f"forecast spend {fq['period_start']} – {fq['period_end']}: {fq['mean']:,.2f} USD{band}")
    else:
        out.print(f"forecast spend next quarter: {fq['reason']}")
    out.print(f"spend month to date ({mtd['period_start']} – {mtd['through']}): {mtd['billed']:,.2f} USD billed")
