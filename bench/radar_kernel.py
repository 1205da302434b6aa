"""Radar scan: :meth:`shorad.sensors.radar.Radar.scan` against the compiled
:func:`shorad.sensors._radar_kernel.radar_scan_kernel` (same detections, bit for bit).

One radar of the demo scenario (its first unit, on the Monaco roofs) scans ``--targets``
drones 300 m to 4.5 km away, 20 to 400 m up. Prints per-call microseconds (median of
``--repeats`` timings) of

* ``Radar.scan`` from Python (``visibility=None``: it runs its own line-of-sight query);
* the kernel called from Python: includes numba's unboxing of the arguments, about 20 us of
  it for the ``np.random.Generator``;
* the kernel called ``--inner`` times from inside one ``@njit`` loop, as the compiled engine
  calls it (no unboxing).

Usage: ``python bench/radar_kernel.py [--targets 50] [--calls 2000] [--inner 1000]``. The last
line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from shorad.sensors._radar_kernel import radar_kernel_args, radar_scan_kernel


@njit(cache=True, nogil=True)
def _loop(
    p: Any,
    los_args: Any,
    pos_m: NDArray[np.float64],
    vel_mps: NDArray[np.float64],
    rcs_dbsm: NDArray[np.float64],
    threat_id: NDArray[np.int64],
    rng: np.random.Generator,
    n_calls: int,
) -> int:  # pragma: no cover - numba
    total = 0
    for k in range(n_calls):
        z, _, _ = radar_scan_kernel(
            p, los_args, float(k), pos_m, vel_mps, rcs_dbsm, threat_id, rng
        )
        total += z.shape[0]
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--targets", type=int, default=50)
    ap.add_argument("--calls", type=int, default=2000, help="calls per Python timing")
    ap.add_argument("--inner", type=int, default=1000, help="calls inside the @njit loop")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from shorad.geo.los import los_kernel_args
    from shorad.scenario import demo_scenario_path, load_scenario
    from shorad.sensors import Radar, make_sensor

    spec = load_scenario(demo_scenario_path())
    world = spec.world
    cfg = spec.units.sensors_of(0)[0]
    radar = make_sensor(cfg, 0, spec.units.pos_m[0])
    assert isinstance(radar, Radar)
    g = np.random.default_rng(0)
    n = args.targets
    rng_m = g.uniform(300.0, 4500.0, n)
    bearing = g.uniform(0.0, 2.0 * np.pi, n)
    pos = np.empty((n, 3))
    pos[:, 0] = radar.pos_m[0] + rng_m * np.sin(bearing)
    pos[:, 1] = radar.pos_m[1] + rng_m * np.cos(bearing)
    pos[:, 2] = g.uniform(20.0, 400.0, n)
    vel = g.normal(0.0, 30.0, (n, 3))
    rcs = g.uniform(-30.0, -10.0, n)
    tid = np.arange(n, dtype=np.int64)
    p = radar_kernel_args(radar)
    los_args = los_kernel_args(world.buildings)

    # warm up (compilation or cache load, line-of-sight index, origin tables)
    rng = np.random.default_rng(1)
    for _ in range(20):
        radar.scan(world, 0.0, pos, rcs, tid, rng=rng, vel_mps=vel)
        radar_scan_kernel(p, los_args, 0.0, pos, vel, rcs, tid, rng)
    _loop(p, los_args, pos, vel, rcs, tid, rng, 2)

    def per_call_us(fn: Any, calls: int) -> float:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) / calls * 1e6)
        return statistics.median(times)

    def python_scan() -> None:
        for _ in range(args.calls):
            radar.scan(world, 0.0, pos, rcs, tid, rng=rng, vel_mps=vel)

    def kernel_from_python() -> None:
        for _ in range(args.calls):
            radar_scan_kernel(p, los_args, 0.0, pos, vel, rcs, tid, rng)

    def kernel_in_loop() -> None:
        _loop(p, los_args, pos, vel, rcs, tid, rng, args.inner)

    result = {
        "targets": n,
        "radar": cfg.name,
        "scan_us": per_call_us(python_scan, args.calls),
        "kernel_from_python_us": per_call_us(kernel_from_python, args.calls),
        "kernel_in_njit_loop_us": per_call_us(kernel_in_loop, args.inner),
    }
    print(f"Radar.scan (Python)            {result['scan_us']:8.1f} us/call")
    print(f"radar_scan_kernel from Python  {result['kernel_from_python_us']:8.1f} us/call")
    print(f"radar_scan_kernel in @njit     {result['kernel_in_njit_loop_us']:8.1f} us/call")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
