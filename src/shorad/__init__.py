"""shorad: simulation and planning of short-range air defence of urban sites against drones.

Simulation and analysis only: nothing here drives a real sensor or weapon, and every
performance figure is a generic, documented assumption held in preset files.
"""

from __future__ import annotations

from shorad._version import __version__

__all__ = ["__version__", "load_scenario", "run"]


def __getattr__(name: str) -> object:
    # Lazy so that `import shorad` stays cheap and core stages never pull in pydantic.
    if name == "load_scenario":
        from shorad.scenario import load_scenario

        return load_scenario
    if name == "run":
        from shorad.api import run

        return run
    raise AttributeError(f"module 'shorad' has no attribute {name!r}")
