"""Registered when the app loads (AppConfig.ready)."""

from __future__ import annotations

from stepwise.care.exits import register_stay_start
from stepwise.care.panels import register_bed_board_section, register_chart_panel


def register() -> None:
    from stepwise.recovery.links import register_screen_setting
    from stepwise.recovery.services.screens import RESIDENCY_SETTING
    from stepwise.residences import panels, screens
    from stepwise.residences.sections import register_residency_section
    from stepwise.residences.services.stay_links import link_on_stay_start

    register_stay_start("residences.stay_link", link_on_stay_start)
    register_chart_panel(32, "residences", panels.residence_panel)
    register_bed_board_section(10, "residences.vacancies", panels.vacancies_section)
    register_screen_setting(RESIDENCY_SETTING, screens.residency_label)
    register_residency_section("recovery.screens", screens.screens_section, order=40)
