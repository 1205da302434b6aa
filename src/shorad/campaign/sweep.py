"""Parameter sweeps: ``KEY=V1,V2,...`` -> the cartesian product of scenario variants.

A key is a dotted path with list indices, in one of two namespaces:

* **scenario keys** address the scenario mapping as read from YAML:
  ``raid[0].count``, ``doctrine.min_pk``, ``duration_s``, ``units[2].mast_m``. Missing
  intermediate mappings are created (``doctrine.min_pk`` works on a file without
  ``doctrine:``); a list index must exist.
* **preset keys** address a named preset: ``sensors.NAME.FIELD``, ``effectors.NAME.FIELD``,
  ``threats.NAME.FIELD`` (e.g. ``sensors.rooftop_radar.max_range_m``,
  ``effectors.rooftop_gun.pk.quadcopter``). The preset is resolved as the scenario would
  resolve it (bundled presets, then the scenario's ``presets:`` files, then its inline
  ``threat_classes``), copied, changed, and written back into the scenario mapping: a threat
  class into ``threat_classes`` (which overrides a preset of the same name); a sensor or
  effector type inline into every unit that names it (those units then report the type as
  ``inline-...``). Every unit that uses the preset sees the change; a preset key that no
  unit uses is an error (the sweep would change nothing).

Values are YAML scalars (``3000``, ``0.3``, ``true``, ``gnn``) or flow sequences and mappings
(``[150,220]``); commas inside brackets do not split values.

Every variant is parsed by :func:`shorad.scenario.parse_scenario` before anything runs, and a
failure names the sweep key and value.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shorad.errors import ConfigError
from shorad.scenario import parse_scenario
from shorad.scenario.load import read_yaml
from shorad.scenario.presets import bundled_presets
from shorad.sim.spec import ScenarioSpec

__all__ = [
    "PRESET_NAMESPACES",
    "Point",
    "Sweep",
    "apply_point",
    "expand_points",
    "parse_sweep",
    "resolve_points",
]

PRESET_NAMESPACES = {"sensors": "sensor", "effectors": "effector", "threats": "threat class"}
"""Preset namespaces of a sweep key and what one entry is called."""

_SEGMENT = re.compile(r"^([A-Za-z_][\w\-]*)((?:\[\d+\])*)$")
_INDEX = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True, slots=True)
class Sweep:
    """One swept key and its levels, in the order given."""

    key: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ConfigError(f"--sweep {self.key}: no values given (expected KEY=V1,V2,...)")


@dataclass(frozen=True, slots=True)
class Point:
    """One sweep point: its index in the cartesian product and the value of each key."""

    point_id: int
    params: tuple[tuple[str, Any], ...]

    @property
    def params_json(self) -> str:
        """The parameters as a JSON object in sweep order."""
        return json.dumps(dict(self.params), separators=(",", ":"))

    def label(self) -> str:
        """``"k1=v1, k2=v2"`` or ``"(base scenario)"``."""
        return ", ".join(f"{k}={_fmt(v)}" for k, v in self.params) or "(base scenario)"


def _fmt(v: Any) -> str:
    return json.dumps(v) if not isinstance(v, str) else v


def _split_values(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur).strip())
    return out


def _parse_value(key: str, text: str) -> Any:
    if text == "":
        raise ConfigError(f"--sweep {key}: empty value in the list")
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--sweep {key}: cannot read value {text!r} ({exc})") from None


def _path(key: str) -> list[str | int]:
    parts: list[str | int] = []
    for seg in key.split("."):
        m = _SEGMENT.match(seg)
        if m is None:
            raise ConfigError(
                f"--sweep {key}: malformed key segment {seg!r} (expected NAME or NAME[i], "
                f"joined by dots, e.g. raid[0].count)"
            )
        parts.append(m.group(1))
        parts.extend(int(i) for i in _INDEX.findall(m.group(2)))
    return parts


def parse_sweep(text: str) -> Sweep:
    """Parse one ``--sweep KEY=V1,V2,...`` argument.

    Raises
    ------
    ConfigError
        For a missing ``=``, a malformed key, an empty or unreadable value or a repeated value.
    """
    key, sep, rest = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--sweep {text!r}: expected KEY=V1,V2,... (e.g. raid[0].count=20,40)")
    path = _path(key)
    if path[0] in PRESET_NAMESPACES and len(path) < 3:
        raise ConfigError(
            f"--sweep {key}: a preset key needs a preset name and a field, e.g. "
            f"{path[0]}.NAME.FIELD"
        )
    values = tuple(_parse_value(key, v) for v in _split_values(rest))
    seen = [json.dumps(v, sort_keys=True, default=str) for v in values]
    if len(set(seen)) != len(seen):
        raise ConfigError(f"--sweep {key}: repeated value in {rest!r}")
    return Sweep(key, values)


def expand_points(sweeps: Sequence[Sweep]) -> list[Point]:
    """The cartesian product of the sweeps' levels, first sweep varying slowest.

    No sweeps give a single point with no parameters (the base scenario).
    """
    keys = [s.key for s in sweeps]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ConfigError(f"--sweep: key(s) given more than once: {dup}")
    combos = itertools.product(*(s.values for s in sweeps))
    return [Point(i, tuple(zip(keys, c, strict=True))) for i, c in enumerate(combos)]


# ---------------------------------------------------------------------------------------
# applying a point to a scenario mapping


def _set(node: Any, path: Sequence[str | int], value: Any, key: str, where: str) -> None:
    for i, part in enumerate(path):
        last = i == len(path) - 1
        here = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[:i])
        if isinstance(part, int):
            if not isinstance(node, list):
                raise ConfigError(f"--sweep {key}: {here.lstrip('.')} is not a list")
            if part >= len(node):
                raise ConfigError(
                    f"--sweep {key}: index [{part}] is out of range ({here.lstrip('.')} has "
                    f"{len(node)} entr{'y' if len(node) == 1 else 'ies'})"
                )
        elif not isinstance(node, dict):
            raise ConfigError(
                f"--sweep {key}: {here.lstrip('.') or 'the scenario'} is not a mapping, "
                f"cannot set {part!r} in it"
            )
        if last:
            node[part] = copy.deepcopy(value)
        else:
            if isinstance(part, str) and node.get(part) is None:
                node[part] = {} if isinstance(path[i + 1], str) else []
            node = node[part]


def _preset_library(data: Mapping[str, Any], base_dir: Path) -> dict[str, dict[str, Any]]:
    """Raw preset mappings as the scenario would see them (bundled < files < inline)."""
    lib: dict[str, dict[str, Any]] = {k: dict(v or {}) for k, v in bundled_presets().items()}
    presets = data.get("presets") or []
    if not isinstance(presets, list):
        return lib
    for i, rel in enumerate(presets):
        p = (base_dir / str(rel)).resolve()
        try:  # the loader's own reader, so both see the same values (YAML 1.2 booleans)
            extra = read_yaml(p, "preset file") or {}
        except ConfigError as exc:
            raise ConfigError(str(exc), field=f"presets[{i}]") from None
        for part in ("threats", "sensors", "effectors"):
            lib[part].update(extra.get(part) or {})
    lib["threats"].update(data.get("threat_classes") or {})
    return lib


def apply_point(
    data: Mapping[str, Any], params: Sequence[tuple[str, Any]], base_dir: Path
) -> dict[str, Any]:
    """A deep copy of the scenario mapping ``data`` with one sweep point's values set.

    Parameters
    ----------
    data : mapping
        The scenario as read from YAML (not modified).
    params : sequence of (key, value)
        Sweep keys (see the module docstring) and their values.
    base_dir : Path
        Folder of the scenario file (for its ``presets:`` files).
    """
    out = copy.deepcopy(dict(data))
    preset_edits: dict[tuple[str, str], list[tuple[list[str | int], Any, str]]] = {}
    for key, value in params:
        path = _path(key)
        if path[0] in PRESET_NAMESPACES:
            ns, name = str(path[0]), path[1]
            if not isinstance(name, str):
                raise ConfigError(f"--sweep {key}: expected a preset name after {ns!r}")
            preset_edits.setdefault((ns, name), []).append((path[2:], value, key))
        else:
            _set(out, path, value, key, "")
    if not preset_edits:
        return out
    lib = _preset_library(out, base_dir)
    for (ns, name), edits in preset_edits.items():
        what = PRESET_NAMESPACES[ns]
        table = lib[ns]
        if name not in table:
            raise ConfigError(
                f"--sweep {edits[0][2]}: unknown {what} preset {name!r}; expected one of "
                f"{sorted(table)}"
            )
        preset = copy.deepcopy(table[name])
        for rest, value, key in edits:
            _set(preset, rest, value, key, f"{ns}.{name}")
        if ns == "threats":
            tc = out.setdefault("threat_classes", {}) or {}
            tc[name] = preset
            out["threat_classes"] = tc
            continue
        used = False
        for unit in out.get("units") or []:
            if not isinstance(unit, dict):
                continue
            if ns == "sensors" and unit.get("sensor") == name:
                unit["sensor"] = copy.deepcopy(preset)
                used = True
            elif ns == "effectors":
                effs = unit.get("effectors") or []
                for j, ref in enumerate(effs):
                    if ref == name:
                        effs[j] = copy.deepcopy(preset)
                        used = True
        if not used:
            raise ConfigError(
                f"--sweep {edits[0][2]}: no unit uses the {what} preset {name!r}, so sweeping "
                f"it would change nothing"
            )
    return out


def _shorten(message: str, width: int = 240) -> str:
    """Cut very long lines (a whole preset echoed back as the offending value)."""
    return "\n".join(
        line if len(line) <= width else line[: width - 5] + " ..." for line in message.splitlines()
    )


def _parse(data: dict[str, Any], base_dir: Path, source: str) -> ScenarioSpec:
    return parse_scenario(data, base_dir=base_dir, source=source)


def resolve_points(
    data: Mapping[str, Any],
    sweeps: Sequence[Sweep],
    *,
    base_dir: Path,
    source: str = "<scenario>",
) -> tuple[ScenarioSpec, list[tuple[Point, ScenarioSpec]]]:
    """Expand the sweeps and parse every point, before anything runs.

    Returns
    -------
    base : ScenarioSpec
        The scenario without any sweep applied.
    points : list of (Point, ScenarioSpec)
        One resolved spec per point of the cartesian product.

    Raises
    ------
    ConfigError
        Naming the sweep key and value when one level alone is invalid, or the whole point
        when only a combination of levels is.
    """
    base = _parse(copy.deepcopy(dict(data)), base_dir, source)
    points = expand_points(sweeps)
    if not sweeps:
        return base, [(points[0], base)]
    out = []
    for pt in points:
        variant = apply_point(data, pt.params, base_dir)
        tag = f"sweep point {pt.point_id} ({pt.label()}), a combination of valid values"
        try:
            out.append((pt, _parse(variant, base_dir, tag)))
        except ConfigError as exc:
            # name the one key and value at fault when a level is invalid on its own
            for key, v in pt.params:
                one = f"--sweep {key}={_fmt(v)}"
                try:
                    _parse(apply_point(data, [(key, v)], base_dir), base_dir, one)
                except ConfigError as single:
                    raise ConfigError(_shorten(str(single))) from None
            raise ConfigError(_shorten(str(exc))) from None
    return base, out
