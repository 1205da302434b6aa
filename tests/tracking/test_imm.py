"""Motion models (NCV/NCA/CT), the IMM filter and the IMM-GNN/IMM-JPDA Cartesian tracker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from shorad.analysis.mtt_metrics import score_files
from shorad.errors import ConfigError
from shorad.tracking.benchfile import generate_scenario, track_file, write_jsonl
from shorad.tracking.imm import (
    ImmCartesianTracker,
    imm_combine,
    imm_mix,
    imm_models,
    imm_predict,
    imm_update,
)
from shorad.tracking.linear import cv_process_noise, cv_transition, kf_predict, kf_update
from shorad.tracking.motion import (
    MotionModel,
    carried_components,
    ct_jacobian,
    ct_transition,
    nca_process_noise,
    nca_transition,
    predict_model,
    process_noise,
    state_dim,
)
from shorad.tracking.mtt import CartesianTracker, MttConfig


def test_nca_transition_and_noise_hand_values() -> None:
    f = nca_transition(3, 2.0)
    assert f.shape == (10, 10)
    # x axis: p' = p + 2 v + 2 a, v' = v + 2 a, a' = a; omega reset to 0.
    assert_allclose(f[0, [0, 3, 6]], [1.0, 2.0, 2.0], atol=0)
    assert_allclose(f[3, [3, 6]], [1.0, 2.0], atol=0)
    assert f[6, 6] == 1.0
    assert f[9, 9] == 0.0
    q = nca_process_noise(1, 2.0, 3.0)
    assert_allclose(
        q, 3.0 * np.array([[32 / 20, 16 / 8, 8 / 6], [16 / 8, 8 / 3, 4 / 2], [8 / 6, 4 / 2, 2]])
    )


def test_ncv_noise_matches_linear_cv_block() -> None:
    q = process_noise(MotionModel("ncv", 0.7), 3, 1.5)
    assert_allclose(q[:6, :6], cv_process_noise(3, 1.5, 0.7), rtol=1e-14)
    assert_allclose(np.diag(q)[6:], [0.01, 0.01, 0.01, 1e-4], rtol=1e-12)
    qct = process_noise(MotionModel("ct", 0.7, 0.2), 2, 1.5)
    assert qct[6, 6] == pytest.approx(0.3)


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("w", [0.4, -0.9, 1e-7, 0.0], ids=["left", "right", "tiny", "zero"])
def test_ct_jacobian_against_finite_differences(dim: int, w: float) -> None:
    rng = np.random.default_rng(3)
    n = state_dim(dim)
    x = rng.normal(size=(1, n)) * 10.0
    x[0, 3 * dim] = w
    jac = ct_jacobian(x, dim, 0.8)[0]
    num = np.empty((n, n))
    h = 1e-6
    for k in range(n):
        e = np.zeros(n)
        e[k] = h
        num[:, k] = (ct_transition(x + e, dim, 0.8)[0] - ct_transition(x - e, dim, 0.8)[0]) / (
            2 * h
        )
    assert_allclose(jac, num, atol=2e-6)


def test_ct_turns_velocity_exactly() -> None:
    x = np.zeros((1, 7))
    x[0, 2] = 10.0  # vx (east)
    x[0, 6] = np.pi / 2 / 5.0  # quarter turn in 5 s, counter-clockwise
    out = ct_transition(x, 2, 5.0)[0]
    assert_allclose(out[2:4], [0.0, 10.0], atol=1e-12)
    r = 10.0 / x[0, 6]
    assert_allclose(out[:2], [r, r], atol=1e-9)


def _rand_imm(rng: np.random.Generator, m: int, r: int, dim: int) -> tuple[np.ndarray, ...]:
    n = state_dim(dim)
    mu = rng.dirichlet(np.ones(r), size=m)
    x = rng.normal(size=(m, r, n))
    a = rng.normal(size=(m, r, n, n))
    p = a @ np.swapaxes(a, -1, -2) + 0.1 * np.eye(n)
    return mu, x, p


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), r=st.integers(1, 3), p_stay=st.floats(0.0, 1.0))
def test_imm_probabilities_sum_to_one_and_covariances_spd(
    seed: int, r: int, p_stay: float
) -> None:
    rng = np.random.default_rng(seed)
    mu, x, p = _rand_imm(rng, 4, r, 2)
    pi = MttConfig(imm_modes=("ncv", "nca", "ct")[:r], imm_p_stay=p_stay).switching()
    c, x0, p0 = imm_mix(mu, x, p, pi)
    assert_allclose(c.sum(axis=1), 1.0, rtol=1e-12)
    models = [MotionModel(k, 0.5, 0.1) for k in ("ncv", "nca", "ct")[:r]]
    xp, pp = imm_predict(models, x0, p0, 2, 0.5)
    mu2, xu, pu = imm_update(c, xp, pp, rng.normal(size=(4, 2)), 4.0 * np.eye(2))
    assert_allclose(mu2.sum(axis=1), 1.0, rtol=1e-12)
    assert (mu2 >= 0.0).all()
    for cov in (p0, pp, pu, imm_combine(mu2, xu, pu)[1]):
        assert_allclose(cov, np.swapaxes(cov, -1, -2), atol=1e-9)
        assert np.linalg.eigvalsh(cov).min() > 0.0


def test_single_mode_imm_equals_ncv_kalman_filter() -> None:
    rng = np.random.default_rng(5)
    dim, dt, q = 3, 0.7, 1.3
    r_cov = 4.0 * np.eye(dim)
    x6 = rng.normal(size=(5, 6))
    p6 = np.broadcast_to(np.eye(6) * 9.0, (5, 6, 6)).copy()
    xa = np.zeros((5, 1, state_dim(dim)))
    xa[:, 0, :6] = x6
    pa = np.broadcast_to(np.eye(state_dim(dim)) * 0.01, (5, 1, 10, 10)).copy()
    pa[:, 0, :6, :6] = p6
    mu = np.ones((5, 1))
    model = [MotionModel("ncv", q)]
    for _ in range(6):
        z = rng.normal(size=(5, dim)) * 5.0
        x6, p6 = kf_predict(x6, p6, cv_transition(dim, dt), cv_process_noise(dim, dt, q))
        x6, p6 = kf_update(x6, p6, z, r_cov)
        c, x0, p0 = imm_mix(mu, xa, pa, np.ones((1, 1)))
        xp, pp = imm_predict(model, x0, p0, dim, dt)
        mu, xa, pa = imm_update(c, xp, pp, z, r_cov)
        xc, pc = imm_combine(mu, xa, pa)
        assert_allclose(xc[:, :6], x6, rtol=1e-10, atol=1e-10)
        assert_allclose(pc[:, :6, :6], p6, rtol=1e-10, atol=1e-10)
    assert_allclose(mu, 1.0)


def _manoeuvring_truth(dt: float, n: int) -> np.ndarray:
    """2-D: 10 m/s east, then a 0.3 rad/s turn, then straight, then a hard brake/accelerate."""
    x = np.array([[0.0, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0]])
    out = []
    for k in range(n):
        w = 0.3 if 15 <= k < 30 else 0.0
        x[0, 6] = w
        x = ct_transition(x, 2, dt)
        x[0, 6] = w
        out.append(x[0, :2].copy())
    return np.array(out)


def test_imm_beats_ncv_on_a_manoeuvring_target() -> None:
    rng = np.random.default_rng(11)
    dt, n, sigma = 1.0, 45, 2.0
    truth = _manoeuvring_truth(dt, n)
    z = truth + sigma * rng.normal(size=truth.shape)
    r_cov = sigma**2 * np.eye(2)
    q = 0.05
    x6 = np.zeros((1, 4))
    x6[0, :2] = z[0]
    p6 = np.diag([sigma**2, sigma**2, 100.0, 100.0])[None]
    models = [MotionModel("ncv", q), MotionModel("ct", q, 0.05)]
    pi = np.array([[0.95, 0.05], [0.05, 0.95]])
    xa = np.zeros((1, 2, 7))
    xa[0, :, :2] = z[0]
    pa = np.broadcast_to(np.diag([sigma**2, sigma**2, 100.0, 100.0, 1.0, 1.0, 0.1]), (1, 2, 7, 7))
    mu = np.full((1, 2), 0.5)
    err_ncv, err_imm = [], []
    for k in range(1, n):
        x6, p6 = kf_predict(x6, p6, cv_transition(2, dt), cv_process_noise(2, dt, q))
        x6, p6 = kf_update(x6, p6, z[k][None], r_cov)
        c, x0, p0 = imm_mix(mu, xa, pa, pi)
        xp, pp = imm_predict(models, x0, p0, 2, dt)
        mu, xa, pa = imm_update(c, xp, pp, z[k][None], r_cov)
        err_ncv.append(np.sum((x6[0, :2] - truth[k]) ** 2))
        err_imm.append(np.sum((imm_combine(mu, xa, pa)[0][0, :2] - truth[k]) ** 2))
    rmse_ncv, rmse_imm = np.sqrt(np.mean(err_ncv)), np.sqrt(np.mean(err_imm))
    assert rmse_imm < 0.8 * rmse_ncv, (rmse_imm, rmse_ncv)


def test_predict_model_spd_for_every_kind() -> None:
    rng = np.random.default_rng(2)
    _, x, p = _rand_imm(rng, 3, 1, 3)
    for kind in ("ncv", "nca", "ct"):
        _, pp = predict_model(MotionModel(kind, 0.5, 0.1), x[:, 0], p[:, 0], 3, 1.0)
        assert np.linalg.eigvalsh(pp).min() > 0.0


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"imm_modes": ("ncv", "zz")}, "imm_modes"),
        ({"imm_modes": ()}, "imm_modes"),
        ({"imm_switch": ((0.5, 0.6), (0.5, 0.5)), "imm_modes": ("ncv", "ct")}, "imm_switch"),
        ({"imm_p_stay": 1.5}, "imm_p_stay"),
        ({"imm_sojourn_s": (1.0, 2.0)}, "imm_sojourn_s"),
        ({"imm_sojourn_s": (1.0, 0.0, 2.0)}, "imm_sojourn_s"),
    ],
    ids=["bad-mode", "no-mode", "rows", "p-stay", "sojourn-len", "sojourn-zero"],
)
def test_imm_config_validation(kw: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        MttConfig(**kw)
    with pytest.raises(ConfigError, match="imm"):
        CartesianTracker(MttConfig(method="imm-gnn"))
    with pytest.raises(ConfigError):
        MotionModel("ncv", -1.0)
    with pytest.raises(ConfigError, match=r"MttConfig\.tentative_cost"):
        ImmCartesianTracker(MttConfig(method="imm-gnn", tentative_cost="mahalanobis"))


@pytest.mark.parametrize("method", ["imm-gnn", "imm-jpda"])
def test_imm_trackers_on_a_benchmark_file(tmp_path: Path, method: str) -> None:
    meas, truth = generate_scenario(8, rng=np.random.default_rng(4), seed=4, scans=25)
    write_jsonl(tmp_path / "s.meas.jsonl", meas)
    write_jsonl(tmp_path / "s.truth.jsonl", truth)
    scores = {}
    for m in ("gnn", method):
        track_file(tmp_path / "s.meas.jsonl", tmp_path / f"{m}.tracks.jsonl", m)
        scores[m] = score_files(tmp_path / "s.truth.jsonl", tmp_path / f"{m}.tracks.jsonl")
    # On NCV truth the IMM is within a few per cent of the matched single model.
    assert scores[method]["gospa"] < 1.1 * scores["gnn"]["gospa"]
    assert scores[method]["tracker"] == f"shorad-{method}"


def test_cli_track_imm(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shorad.cli import app

    runner = CliRunner()
    stem = tmp_path / "ref"
    r = runner.invoke(app, ["bench-scenario", str(stem), "--n", "3", "--scans", "10"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "ref.tracks.jsonl"
    r = runner.invoke(
        app, ["track", f"{stem}.meas.jsonl", "-o", str(out), "--tracker", "imm-jpda"]
    )
    assert r.exit_code == 0, r.output
    assert out.read_text().count("\n") == 11


def test_sojourn_switching_follows_the_scan_period() -> None:
    cfg = MttConfig(imm_modes=("ncv", "ncvh"), imm_sojourn_s=(10.0, 4.0))
    p1, p2 = cfg.switching(0.5), cfg.switching(1.0)
    assert_allclose(p1.sum(axis=1), 1.0)
    assert_allclose(p1 @ p1, p2, atol=1e-12)  # Chapman-Kolmogorov
    # Two models: P(stay) = (b + a exp(-(a + b) T)) / (a + b), a, b the leaving rates.
    a, b = 0.1, 0.25
    assert_allclose(p1[0, 0], (b + a * np.exp(-(a + b) * 0.5)) / (a + b))
    assert_allclose(cfg.switching(0.0), np.eye(2), atol=1e-12)
    models = imm_models(cfg)
    assert [m.kind for m in models] == ["ncv", "ncv"]
    assert models[1].q == cfg.imm_ncvh_q_m2ps3


def test_unequal_mixing_keeps_the_turn_rate_of_the_ct_model() -> None:
    rng = np.random.default_rng(5)
    mu, x, p = _rand_imm(rng, 3, 3, 2)
    models = (MotionModel("ncv", 0.5), MotionModel("nca", 1.0), MotionModel("ct", 0.5, 0.1))
    x[:, 0, 4:] = 0.0  # NCV: a and omega reset to zero
    x[:, 2, 4:6] = 0.0  # CT: a reset
    x[:, 2, 6] = 0.4
    mu[:] = [0.98, 0.01, 0.01]
    pi = MttConfig().switching()
    carried = np.stack([carried_components(m, 2) for m in models])
    _, x_zero, _ = imm_mix(mu, x, p, pi)
    c, x0, p0 = imm_mix(mu, x, p, pi, carried)
    assert np.all(np.abs(x_zero[:, 2, 6]) < 0.1)  # the reset zeros swamp the turn rate
    assert_allclose(x0[:, 2, 6], 0.4)  # only CT carries omega
    assert_allclose(x0[:, 1, 4:6], x[:, 1, 4:6])  # only NCA carries a
    # [p, v] are mixed as usual.
    _, x_ref, _ = imm_mix(mu, x, p, pi)
    assert_allclose(x0[:, :, :4], x_ref[:, :, :4])
    assert np.linalg.eigvalsh(p0).min() > 0.0
    assert_allclose(c.sum(axis=1), 1.0)


def test_imm_tracker_with_ncv_pair_and_unequal_mixing(tmp_path: Path) -> None:
    meas, truth = generate_scenario(6, rng=np.random.default_rng(6), seed=6, scans=20)
    write_jsonl(tmp_path / "s.meas.jsonl", meas)
    write_jsonl(tmp_path / "s.truth.jsonl", truth)
    scores = {}
    settings_ = {
        "gnn": ("gnn", {}),
        "pair": ("imm-gnn", {"imm_modes": ("ncv", "ncvh"), "imm_sojourn_s": (10.0, 10.0)}),
        "um": ("imm-jpda", {"imm_unequal_mixing": True}),
    }
    for name, (m, kw) in settings_.items():
        out = tmp_path / f"{name}.tracks.jsonl"
        track_file(tmp_path / "s.meas.jsonl", out, m, **kw)
        scores[name] = score_files(tmp_path / "s.truth.jsonl", out)["gospa"]
    assert scores["pair"] < 1.1 * scores["gnn"]
    assert scores["um"] < 1.1 * scores["gnn"]


@pytest.mark.parametrize("method", ["imm-gnn", "imm-jpda"])
def test_mixture_likelihood_of_one_model_is_the_gaussian(tmp_path: Path, method: str) -> None:
    """With one model the mixture density is the moment-matched Gaussian: same tracks."""
    meas, _ = generate_scenario(10, rng=np.random.default_rng(8), seed=8, scans=15)
    write_jsonl(tmp_path / "s.meas.jsonl", meas)
    rows = {}
    for mix in (False, True):
        out = tmp_path / f"{mix}.tracks.jsonl"
        kw = {"imm_modes": ("ncv",), "imm_mixture_likelihood": mix}
        track_file(tmp_path / "s.meas.jsonl", out, method, **kw)
        rows[mix] = [line.split('"latency_s"')[0] for line in out.read_text().splitlines()]
    assert rows[True] == rows[False]
    assert len(rows[True]) == 16


def test_mixture_likelihood_with_two_models_tracks_as_well(tmp_path: Path) -> None:
    """With two models the mixture score tracks within 5 % of the moment-matched one."""
    meas, truth = generate_scenario(30, rng=np.random.default_rng(9), seed=9, scans=30)
    write_jsonl(tmp_path / "s.meas.jsonl", meas)
    write_jsonl(tmp_path / "s.truth.jsonl", truth)
    g = {}
    for mix in (False, True):
        out = tmp_path / f"{mix}.tracks.jsonl"
        kw = {
            "imm_modes": ("ncv", "ncvh"),
            "imm_sojourn_s": (10.0, 10.0),
            "imm_mixture_likelihood": mix,
        }
        track_file(tmp_path / "s.meas.jsonl", out, "imm-gnn", **kw)
        g[mix] = score_files(tmp_path / "s.truth.jsonl", out)["gospa"]
    assert g[True] < 1.05 * g[False]
    assert g[False] < 1.05 * g[True]
