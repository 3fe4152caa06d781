"""Registered when the app loads (AppConfig.ready)."""

from __future__ import annotations

from stepwise.care.panels import register_bed_board_section, register_chart_panel


def register() -> None:
    from stepwise.residences import panels

    register_chart_panel(32, "residences", panels.residence_panel)
    register_bed_board_section(10, "residences.vacancies", panels.vacancies_section)
