"""Per-cycle time of the compiled greedy C2 cycle against the Python path, on demo cycles.

Usage: ``python bench/greedy_kernel.py [--seed 1] [--repeat 5]``. Records every C2 cycle of a
demo run (the picture predicted to now, the effector state, the held tracks), then times per
cycle, best of ``--repeat`` passes over all cycles:

- python: ``evaluate_threats`` + ``GreedyAssigner.assign`` (what the engine does),
- kernel from Python: :func:`greedy_cycle_kernel` called once per cycle from Python (includes
  unboxing its arguments, the big constant tuple among them),
- kernel in njit: the same calls from inside one ``@njit`` loop (what the compiled engine pays),
- the same without the line-of-sight check (its share of the kernel's time).

Prints one line per variant (µs per cycle).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from numba import njit

from shorad.c2 import GreedyAssigner, evaluate_threats
from shorad.c2._greedy_kernel import greedy_cycle_kernel, greedy_kernel_args
from shorad.geo.los import los_kernel_args
from shorad.scenario import demo_scenario_path, load_scenario
from shorad.sim import engine


@njit(cache=True, nogil=True)
def _loop(
    c: Any,
    los_args: Any,
    t: Any,
    off: Any,
    tid: Any,
    x: Any,
    P: Any,
    status: Any,
    cp: Any,
    last: Any,
    shots: Any,
    busy: Any,
    ready: Any,
    held: Any,
    held_off: Any,
) -> int:  # pragma: no cover - numba
    n = 0
    for k in range(t.shape[0]):
        a, b = off[k], off[k + 1]
        out = greedy_cycle_kernel(
            c,
            los_args,
            t[k],
            tid[a:b],
            x[a:b],
            P[a:b],
            status[a:b],
            cp[a:b],
            last[a:b],
            shots[k],
            busy[k],
            ready[k],
            held[held_off[k] : held_off[k + 1]],
        )
        n += out[0].shape[0]
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    spec = load_scenario(demo_scenario_path())
    cycles: list[tuple[Any, Any, Any]] = []
    assign = GreedyAssigner.assign

    def recording(self: Any, tracks: Any, assessment: Any, eff: Any, state: Any, held: Any) -> Any:
        cycles.append((tracks, state, held.copy()))
        return assign(self, tracks, assessment, eff, state, held)

    GreedyAssigner.assign = recording  # type: ignore[method-assign]
    try:
        engine.simulate(spec, args.seed)
    finally:
        GreedyAssigner.assign = assign  # type: ignore[method-assign]
    n = len(cycles)
    eff, assets, world = spec.effectors, spec.assets, spec.world
    print(f"{n} C2 cycles, {np.mean([len(c[0]) for c in cycles]):.1f} tracks on average")

    def best(fn: Any) -> float:
        fn()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times) / n * 1e6

    assigner = GreedyAssigner(spec.doctrine, world)

    def python() -> None:
        for tracks, state, held in cycles:
            assigner.assign(tracks, evaluate_threats(tracks, assets), eff, state, held)

    los_args = los_kernel_args(world.buildings)
    packed = {
        los: greedy_kernel_args(spec.doctrine, eff, assets, check_los=los) for los in (True, False)
    }

    def from_python() -> None:
        c = packed[True]
        for tr, st, held in cycles:
            greedy_cycle_kernel(
                c,
                los_args,
                tr.t_s,
                tr.track_id,
                tr.x,
                tr.P,
                tr.status,
                tr.class_prob,
                tr.last_update_t_s,
                st.shots_left,
                st.channels_busy,
                st.ready_t_s,
                held,
            )

    trs = [c[0] for c in cycles]
    flat = (
        np.array([tr.t_s for tr in trs]),
        np.concatenate([[0], np.cumsum([len(tr) for tr in trs])]).astype(np.int64),
        np.concatenate([tr.track_id for tr in trs]),
        np.concatenate([tr.x for tr in trs]),
        np.concatenate([tr.P for tr in trs]),
        np.concatenate([tr.status for tr in trs]),
        np.concatenate([tr.class_prob for tr in trs]),
        np.concatenate([tr.last_update_t_s for tr in trs]),
        np.stack([c[1].shots_left for c in cycles]),
        np.stack([c[1].channels_busy for c in cycles]),
        np.stack([c[1].ready_t_s for c in cycles]),
        np.concatenate([c[2] for c in cycles]).astype(np.int64),
        np.concatenate([[0], np.cumsum([c[2].size for c in cycles])]).astype(np.int64),
    )
    print(f"python (evaluate_threats + assign): {best(python):8.1f} µs/cycle")
    print(f"kernel, called from Python:         {best(from_python):8.1f} µs/cycle")
    in_njit = best(lambda: _loop(packed[True], los_args, *flat))
    print(f"kernel, in an njit loop:            {in_njit:8.1f} µs/cycle")
    no_los = best(lambda: _loop(packed[False], los_args, *flat))
    print(f"kernel, njit loop, no LOS check:    {no_los:8.1f} µs/cycle")


if __name__ == "__main__":
    main()
