"""Line-of-sight benchmark: shorad against trimesh + Embree and raw Embree (issue 4).

1,000,000 random segments from rooftop points (roof + 2 m) to points 50-500 m above the bundled
Monaco district, run in one process through

(a) shorad's :func:`shorad.geo.line_of_sight` (numba kernel, one thread; its first call,
    which builds the index and its accelerated copy, is timed apart as
    ``shorad_first_call_s``, like Embree's scene build as ``embree_scene_build_s``; the
    start points' horizons and sure blockers, kept with the city, are built in the first
    timed run, once a point has had 1,024 segments; ``shorad_cold_origins_*`` times calls
    that start without them, which then run without them),
(b) trimesh's ray interface backed by ``embreex`` (first hit along the ray, compared with the
    segment length),
(c) Embree's own occlusion query (``embreex`` scene ``run(..., dists=..., query="OCCLUDED")``)
    on the same extruded prisms, in local float32 coordinates,
(d) a slow exact reference on a subsample: an independent shapely brute force (exact 2-D
    intersection pieces, z at their ends) plus the vectorised numpy wall-crossing reference
    (:func:`shorad.geo.los._line_of_sight_reference`); every ray on which shorad and Embree
    disagree is also checked.

The last line printed is one JSON object. Peers that cannot be imported are skipped with a
message (``pip install -e '.[bench]'`` installs them). Usage::

    python bench/los.py [--n 1000000] [--ref-n 20000] [--shapely-n 500] [--seed 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from shorad.geo import LOS_TOL_M, Buildings, line_of_sight, load_world
from shorad.geo.los import _ORIGIN_CACHE_KEY, _line_of_sight_reference

MONACO_ORIGIN_DEG = (43.7384, 7.4246)


def make_segments(
    bld: Buildings, n: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Rooftop points (roof + 2 m) -> uniform points 50-500 m above the district."""
    x0, y0, x1, y1 = bld.extent_m
    roof = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(bld.polygons, dtype=object))
    )
    k = rng.integers(0, len(bld), n)
    a = np.column_stack([roof[k], bld.height_m[k] + 2.0])
    b = np.column_stack(
        [rng.uniform(x0, x1, n), rng.uniform(y0, y1, n), rng.uniform(50.0, 500.0, n)]
    )
    return a, b


def prism_mesh(
    bld: Buildings, z_bottom_m: float = -1.0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Closed triangle mesh of the extruded footprints (roof, floor and walls)."""
    verts: list[NDArray[np.float64]] = []
    faces: list[NDArray[np.int64]] = []
    nv = 0
    for poly, h in zip(bld.polygons, bld.height_m, strict=True):
        tri = shapely.get_parts(shapely.constrained_delaunay_triangles(poly))
        xy = shapely.get_coordinates(shapely.get_exterior_ring(tri)).reshape(-1, 4, 2)[:, :3]
        m = xy.shape[0] * 3
        flat = xy.reshape(-1, 2)
        for z, flip in ((h, False), (z_bottom_m, True)):
            verts.append(np.column_stack([flat, np.full(m, z)]))
            f = nv + np.arange(m).reshape(-1, 3)
            faces.append(f[:, ::-1] if flip else f)
            nv += m
    ea, eb = bld.edge_a_m, bld.edge_b_m
    top = bld.height_m[bld.edge_building]
    e = ea.shape[0]
    bot = np.full(e, z_bottom_m)
    quad = np.stack(
        [
            np.column_stack([ea, bot]),
            np.column_stack([eb, bot]),
            np.column_stack([eb, top]),
            np.column_stack([ea, top]),
        ],
        axis=1,
    ).reshape(-1, 3)
    verts.append(quad)
    base = nv + 4 * np.arange(e)[:, None]
    faces.append(np.vstack([base + np.array([0, 1, 2]), base + np.array([0, 2, 3])]))
    return np.vstack(verts), np.vstack(faces)


def shapely_blocked(bld: Buildings, tree: shapely.STRtree, a: NDArray, b: NDArray) -> bool:
    """Independent brute force (non-vertical segments): exact 2-D pieces, z at their ends."""
    d = b - a
    len_xy = math.hypot(d[0], d[1])
    line = shapely.LineString([a[:2], b[:2]])
    for k in tree.query(line):
        hcut = bld.height_m[k] - LOS_TOL_M
        for piece in shapely.get_parts(line.intersection(bld.polygons[k])):
            if piece.geom_type != "LineString" or piece.length <= LOS_TOL_M:
                continue
            ends = np.array([piece.coords[0], piece.coords[-1]])
            u, v = ((ends - a[:2]) @ d[:2]) / len_xy**2
            if min(a[2] + u * d[2], a[2] + v * d[2]) < hcut:
                return True
    return False


def timed(fn: Any, n: int) -> tuple[Any, float]:
    """Run ``fn()`` once and return (result, rays per second)."""
    t0 = time.perf_counter()
    out = fn()
    return out, n / (time.perf_counter() - t0)


def best_of(fn: Any, n: int, repeats: int) -> tuple[Any, float, float]:
    """Run ``fn()`` ``repeats`` times: (result, best rays per second, best CPU ns per ray)."""
    rate, cpu = 0.0, math.inf
    out = None
    for _ in range(repeats):
        c0 = time.process_time()
        out, r = timed(fn, n)
        cpu = min(cpu, (time.process_time() - c0) / n * 1e9)
        rate = max(rate, r)
    return out, rate, cpu


def main() -> None:
    """Run the benchmark and print one JSON line last."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--ref-n", type=int, default=20_000, help="numpy reference subsample")
    p.add_argument("--shapely-n", type=int, default=500, help="shapely reference subsample")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3, help="timed runs of (a) and (c), best kept")
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    world = load_world("bundled:monaco", *MONACO_ORIGIN_DEG)
    bld = world.buildings
    n = args.n
    a, b = make_segments(bld, n, rng)
    result: dict[str, Any] = {"n_rays": n, "n_buildings": len(bld)}
    print(f"Monaco: {len(bld)} prisms, {n:,} segments roof+2 m -> 50-500 m")

    # (a) shorad; the first call builds the index (and, the city having been asked about
    # 1,000,000 segments, its accelerated copy): reported apart, like Embree's scene build;
    # the start points' data (kept with the city, like the index) are built in the next call
    line_of_sight(bld, a[:10], b[:10])  # JIT / cache warm-up
    t0 = time.perf_counter()
    line_of_sight(bld, a, b)
    result["shorad_first_call_s"] = round(time.perf_counter() - t0, 3)
    los, rate, cpu = best_of(lambda: line_of_sight(bld, a, b), n, args.repeats)
    result["shorad_rays_per_s"] = round(rate)
    result["shorad_cpu_ns_per_ray"] = round(cpu, 1)
    result["blocked_fraction"] = round(float(1.0 - los.mean()), 4)
    print(f"(a) shorad LOS             {rate / 1e6:6.2f} M rays/s  ({cpu:.0f} ns CPU per ray)")

    # the same call without the per-origin data kept from the calls before (best of repeats)
    def cold_call() -> NDArray[np.bool_]:
        bld._cache.pop(_ORIGIN_CACHE_KEY, None)
        return line_of_sight(bld, a, b)

    cold, rate_cold, cpu_cold = best_of(cold_call, n, args.repeats)
    result["shorad_cold_origins_rays_per_s"] = round(rate_cold)
    result["shorad_cold_origins_cpu_ns_per_ray"] = round(cpu_cold, 1)
    result["cold_vs_kept_disagreements"] = int(np.sum(cold != los))
    print(
        f"    ... without kept origin data   {rate_cold / 1e6:6.2f} M rays/s  ({cpu_cold:.0f} ns)"
    )

    # shared prism mesh, in local coordinates (Embree is float32)
    verts, faces = prism_mesh(bld)
    centre = verts.mean(axis=0)
    centre[2] = 0.0
    vloc = verts - centre
    seg = b - a
    length = np.linalg.norm(seg, axis=1)
    embree_blocked: NDArray[np.bool_] | None = None

    # (c) raw Embree occlusion
    try:
        from embreex import rtcore_scene
        from embreex.mesh_construction import TriangleMesh
    except ImportError as exc:
        print(f"(c) raw Embree skipped: cannot import embreex ({exc})")
    else:
        t0 = time.perf_counter()
        scene = rtcore_scene.EmbreeScene()
        TriangleMesh(scene=scene, vertices=vloc.astype(np.float32), indices=faces.astype(np.int32))
        o32 = (a - centre).astype(np.float32)
        d32 = seg.astype(np.float32)
        one = np.ones(n, np.float32)
        scene.run(o32[:10], d32[:10], dists=one[:10], query="OCCLUDED")
        result["embree_scene_build_s"] = round(time.perf_counter() - t0, 3)
        hit, best, cpu_e = best_of(
            lambda: scene.run(o32, d32, dists=one, query="OCCLUDED"), n, args.repeats
        )
        embree_blocked = np.asarray(hit) != -1
        result["embree_rays_per_s"] = round(best)
        result["embree_cpu_ns_per_ray"] = round(cpu_e, 1)
        result["embree_vs_shorad_disagreements"] = int(np.sum(embree_blocked == los))
        print(f"(c) raw Embree occlusion   {best / 1e6:6.2f} M rays/s  ({faces.shape[0]} tris)")

    # (b) trimesh + embreex ray interface
    try:
        import trimesh
    except ImportError as exc:
        print(f"(b) trimesh skipped: cannot import trimesh ({exc})")
    else:
        mesh = trimesh.Trimesh(vertices=vloc, faces=faces, process=False)
        unit = seg / length[:, None]
        o = a - centre

        def trimesh_blocked() -> NDArray[np.bool_]:
            loc, ray, _tri = mesh.ray.intersects_location(o, unit, multiple_hits=False)
            out = np.zeros(n, dtype=bool)
            dist = np.linalg.norm(loc - o[ray], axis=1)
            out[ray[dist < length[ray]]] = True
            return out

        tb, r = timed(trimesh_blocked, n)
        result["trimesh_rays_per_s"] = round(r)
        result["trimesh_backend"] = type(mesh.ray).__module__
        result["trimesh_vs_shorad_disagreements"] = int(np.sum(tb == los))
        print(f"(b) trimesh ray interface  {r / 1e6:6.2f} M rays/s  ({type(mesh.ray).__module__})")

    # (d) exact references on subsamples (+ every ray where shorad and Embree disagree)
    sub = rng.choice(n, size=min(args.ref_n, n), replace=False)
    ref_los = _line_of_sight_reference(bld, a[sub], b[sub])
    dis_numpy = int(np.sum(ref_los != los[sub]))
    tree = shapely.STRtree(np.asarray(bld.polygons, dtype=object))
    check = set(sub[: args.shapely_n].tolist())
    if embree_blocked is not None:
        check |= set(np.flatnonzero(embree_blocked == los).tolist())
    idx = np.array(sorted(check), dtype=np.int64)
    t0 = time.perf_counter()
    ref_sh = np.array([not shapely_blocked(bld, tree, a[i], b[i]) for i in idx], dtype=bool)
    sh_rate = idx.size / max(time.perf_counter() - t0, 1e-9)
    dis_shapely = int(np.sum(ref_sh != los[idx]))
    result["disagreements"] = dis_numpy + dis_shapely
    result["rays_checked_numpy_reference"] = int(sub.size)
    result["rays_checked_shapely_reference"] = int(idx.size)
    result["shapely_reference_rays_per_s"] = round(sh_rate)
    if embree_blocked is not None:
        flagged = np.flatnonzero(embree_blocked == los)
        pos = np.searchsorted(idx, flagged)
        result["embree_wrong_vs_exact"] = int(np.sum(ref_sh[pos] == embree_blocked[flagged]))
    print(
        f"(d) exact references: {dis_numpy} disagreements on {sub.size:,} rays (numpy), "
        f"{dis_shapely} on {idx.size:,} rays (shapely)"
    )
    if "embree_rays_per_s" in result:
        result["shorad_over_embree"] = round(
            result["shorad_rays_per_s"] / result["embree_rays_per_s"], 3
        )
        result["shorad_over_embree_cpu"] = round(
            result["embree_cpu_ns_per_ray"] / result["shorad_cpu_ns_per_ray"], 3
        )
    result["machine"] = f"{platform.machine()} {platform.processor() or ''}".strip()
    result["python"] = platform.python_version()
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
