"""``shorad coverage``: files written, NetCDF readable, bad options rejected."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import yaml
from scipy.io import netcdf_file
from typer.testing import CliRunner

from shorad.cli import app
from shorad.testing import SMALL_SCENARIO

runner = CliRunner()


def test_coverage_writes_maps_raster_and_warning_times(tmp_path: Path) -> None:
    data = copy.deepcopy(SMALL_SCENARIO)
    data["units"][1]["sensor"] = "rf_df"
    scen = tmp_path / "s.yaml"
    scen.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "cov"
    args = ["coverage", str(scen), "--altitudes", "30,120", "--cell", "40", "--out", str(out)]
    res = runner.invoke(app, [*args, "--target", "quadcopter", "--cumulative"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "coverage.nc",
        "coverage_120m.png",
        "coverage_30m.png",
        "warning_times.json",
    ]
    with netcdf_file(out / "coverage.nc", "r", mmap=False) as f:
        pd = np.array(f.variables["pd"][:])
        assert pd.shape[0] == 2
        assert np.nanmax(pd) <= 1.0
        assert np.nanmin(pd) >= 0.0
    bad = runner.invoke(app, ["coverage", str(scen), "--target", "zeppelin", "--out", str(out)])
    assert bad.exit_code == 2
    assert "zeppelin" in bad.output
    bad = runner.invoke(app, ["coverage", str(scen), "--box", "1,2,3", "--out", str(out)])
    assert bad.exit_code == 2
