"""Scenario files (YAML, pydantic at the edge) -> frozen ScenarioSpec."""

from shorad.scenario.load import demo_scenario_path, load_scenario, parse_scenario

__all__ = ["demo_scenario_path", "load_scenario", "parse_scenario"]
