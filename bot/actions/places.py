"""Place names for messages, from the configured villages and grids."""

from __future__ import annotations

from bot.runtime.services import Services


def grid_names(services: Services, grid_id: str) -> tuple[str, str]:
    """(village name, grid name); a grid no longer configured shows as its id."""
    found = services.config.grid(grid_id)
    return (found[0].name, found[1].name) if found else ("", grid_id)


def grid_label(services: Services, grid_id: str) -> str:
    """ "先锋社区 第1网格": the village and the grid, for lists and choices."""
    return " ".join(grid_names(services, grid_id))
