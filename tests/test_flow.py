"""The flow-matching shower generator (ganplify.calo.flow) and its choice by
``calorimeter.trained.model``: the encoding and its statistics, the ODE solvers against exact
solutions, a tiny training, exact resume after a kill, and the jobs and the workflow with
``model: flow``."""

import math

import numpy as np
import pytest
import torch
import yaml
from conftest import DEMO_CONFIGS, REPO, run, snakemake_cmd

from ganplify.calo import flow, formats, learned
from ganplify.calo.detector import detector_from_config
from ganplify.core.config import ConfigError, validate_config
from ganplify.core.io import write_h5
from ganplify.core.runtime import Preempted
from ganplify.jobs.calo_generator import (
    generate_showers,
    generator_training,
    load_generator,
    train_shower_generator,
)
from ganplify.jobs.calo_showers import simulate_showers

DETECTOR = "dataset1-photons"
SPECTRUM = {"discrete": [1.024, 16.384]}
TINY = flow.FlowConfig(
    hidden=(32, 32), epochs=3, batch_size=40, steps=4, solver="euler", hit_calibration=50
)


@pytest.fixture(scope="module")
def truth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("flow") / "truth.h5"
    simulate_showers(
        path,
        calo="t",
        sample="truth",
        index=0,
        n=240,
        sample_cfg={"kind": "simulator"},
        detector=DETECTOR,
        incident_energy=SPECTRUM,
        seed=5,
    )
    return path


def _data(path, batch=40, n=240):
    return learned.ShowerSlices([(str(path), formats.CALOCHALLENGE, 0, n)], batch)


def _truth(path):
    data = _data(path, 240)
    return data.read(data.parts[0])


@pytest.mark.parametrize("gap", [0.0, 1.5])
def test_decode_inverts_encode_and_the_hits_are_the_voxels_above_the_boundary(truth_file, gap):
    e, s = _truth(truth_file)
    e_min = float(s[s > 0].min())
    zeros = gap + (1 - np.random.default_rng(0).random(s.shape)) * 0.7  # in (gap, gap + 0.7]
    x, log_e = flow.encode(e, s, e_min, zeros)
    assert x.shape == (240, s.shape[1] + 1)
    np.testing.assert_allclose(np.exp(log_e), e * 1e3)
    hit = s > 0
    assert (x[:, :-1][hit] >= 0).all() and (x[:, :-1][~hit] < -gap).all()
    np.testing.assert_allclose(-x[:, :-1][~hit], zeros[~hit])  # the slab, as drawn
    back = flow.decode(x, e, e_min, -gap / 2)
    assert ((back > 0) == hit).all()
    np.testing.assert_allclose(back, s, rtol=1e-5)
    # inside the gap: above its middle a hit of the smallest energy, below it empty
    x1 = x.copy()
    x1[:, 0] = -0.4 * gap if gap else 0.0
    x1[:, 1] = -0.6 * gap if gap else -1e-9
    inside = flow.decode(x1, e, e_min, -gap / 2)
    assert (inside[:, 0] > 0).all() and (inside[:, 1] == 0).all()
    # the visible energy coordinate rules: hits are scaled to it, each kept at >= e_min
    x2 = x.copy()
    x2[:, -1] += math.log(2.0)
    np.testing.assert_allclose(flow.decode(x2, e, e_min, -gap / 2).sum(1), 2 * s.sum(1), rtol=1e-4)
    x3 = x.copy()
    x3[:, -1] -= 20.0
    low = flow.decode(x3, e, e_min, -gap / 2)
    assert ((low > 0) == hit).all() and (low[hit] >= np.float32(e_min)).all()


def test_standardisation_is_the_exact_mean_and_std_per_energy_with_the_slab(truth_file):
    e, s = _truth(truth_file)
    w, g = 0.8, 1.3
    stats = flow.standardisation(_data(truth_file, 70), w, g)  # several slices, the last short
    e_min = float(s[s > 0].min())
    assert stats.e_min == e_min and stats.n == 240
    np.testing.assert_allclose(np.exp(stats.knots), np.array(SPECTRUM["discrete"]) * 1e3)
    # a uniform slab on [-g - w, -g) has mean -(g + w/2) and second moment g² + g w + w²/3:
    # constant stand-ins give both
    x_mean, c = flow.encode(e, s, e_min, np.full(s.shape, g + w / 2))
    x_sq, _ = flow.encode(e, s, e_min, np.full(s.shape, math.sqrt(g**2 + g * w + w**2 / 3)))
    for k, energy in enumerate(SPECTRUM["discrete"]):
        at = e == energy
        np.testing.assert_allclose(stats.mean[k], x_mean[at].mean(0), rtol=1e-9, atol=1e-9)
        std = np.sqrt((x_sq[at] ** 2).mean(0) - x_mean[at].mean(0) ** 2)
        std[std < 1e-6] = 1.0
        np.testing.assert_allclose(stats.std[k], std, rtol=1e-7, atol=1e-9)
        # and the moments a shower of that energy is standardised with
        mean, sd = stats.moments(c[at][:3])
        np.testing.assert_allclose(mean, np.tile(stats.mean[k], (3, 1)), rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(sd, np.tile(stats.std[k], (3, 1)), rtol=1e-8, atol=1e-9)
    assert stats.c_mean == pytest.approx(c.mean()) and stats.c_std == pytest.approx(c.std())


def test_whitening_is_the_expected_correlation_over_the_dequantisation(truth_file):
    w, g = 1.0, 2.0
    data = _data(truth_file, 70)
    stats = flow.standardisation(data, w, g)
    whiten, colour = flow.whitening(data, stats, w, g)
    np.testing.assert_allclose(whiten @ colour, np.eye(stats.dim), atol=1e-9)
    np.testing.assert_allclose(whiten, whiten.T, atol=1e-12)  # symmetric (ZCA) roots
    # the correlation of the standardised coordinates, averaged over many dequantisations
    e, s = _truth(truth_file)
    rng = np.random.default_rng(0)
    draws = []
    for _ in range(40):
        x, c = flow.encode(e, s, stats.e_min, g + w * rng.random(s.shape))
        draws.append(stats.standardise(x, c))
    z = np.concatenate(draws)
    expected = colour @ colour
    assert np.abs(z.T @ z / len(z) - expected).max() < 0.05
    # and the network's coordinates, whitened, go back to the encoded showers
    stats.whiten, stats.colour = whiten, colour
    x, c = flow.encode(e, s, stats.e_min, np.full(s.shape, g + w / 2))
    np.testing.assert_allclose(stats.destandardise(stats.standardise(x, c), c), x, atol=1e-9)


def test_hit_fractions_and_ranges_per_energy_are_the_training_showers(truth_file):
    e, s = _truth(truth_file)
    stats = flow.standardisation(_data(truth_file, 70), 1.0, 2.0)
    x, c = flow.encode(e, s, stats.e_min, np.full(s.shape, 2.5))
    for k, energy in enumerate(SPECTRUM["discrete"]):
        at = e == energy
        np.testing.assert_allclose(stats.hit_fraction[k], (s[at] > 0).mean(0), atol=1e-9)
        # the range: each voxel's largest hit (never hit: the slab's top), the smallest E_vis
        hit_max = np.where(s[at] > 0, x[at, :-1], -np.inf).max(0)
        np.testing.assert_allclose(stats.x_max[k, :-1], np.where(np.isfinite(hit_max), hit_max, -2))
        assert stats.x_max[k, -1] == pytest.approx(x[at, -1].max())
        assert stats.vis_min[k] == pytest.approx(x[at, -1].min())
    # clipped into it: a wild sample comes back inside
    wild = x + 50.0
    wild[:, -1] = -50.0
    held = stats.clip(wild, c)
    w = flow.hat_weights(c, stats.knots)
    np.testing.assert_allclose(held[:, :-1], (w @ stats.x_max)[:, :-1])
    np.testing.assert_allclose(held[:, -1], w @ stats.vis_min)


@pytest.mark.parametrize("n", [1, 7, 400])
def test_quantile_boundaries_leave_the_asked_fraction_above(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 6))
    fraction = np.array([0.0, 0.03, 0.25, 0.5, 0.9, 1.0])
    b = flow._quantile_boundaries(x, fraction)
    above = (x >= b).sum(0)
    np.testing.assert_array_equal(above, n - np.rint((1 - fraction) * n))  # the nearest count


def test_hat_basis_interpolates_linearly_between_knots():
    knots = np.array([1.0, 2.0, 4.0])
    c = np.array([0.0, 1.0, 1.5, 3.0, 4.0, 9.0])
    w = flow.hat_weights(c, knots)
    np.testing.assert_allclose(w.sum(1), 1.0)
    # a function linear between the knots is reproduced, held constant outside them
    np.testing.assert_allclose(w @ knots, np.clip(c, 1.0, 4.0))
    np.testing.assert_allclose(w[2], [0.5, 0.5, 0.0])
    # a continuous spectrum gets quantile knots, a discrete one its energies
    rng = np.random.default_rng(0)
    assert len(flow.knots(rng.uniform(0, 1, 1000))) == flow.MAX_KNOTS
    np.testing.assert_array_equal(flow.knots([3.0, 1.0, 3.0, 2.0]), [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "solver, steps, exact",
    [
        # dx/dt = x from x(0) = 1: Euler (1 + h)^n, midpoint and Heun (1 + h + h²/2)^n
        ("euler", 5, (1 + 1 / 5) ** 5),
        ("midpoint", 3, (1 + 1 / 3 + 1 / 18) ** 3),
        ("heun", 4, (1 + 1 / 4 + 1 / 32) ** 4),
    ],
)
def test_solvers_take_their_steps_and_match_their_exact_recurrences(solver, steps, exact):
    calls = []

    def velocity(x, t, c):
        calls.append(float(t[0]))
        return x

    x = torch.ones(3, 2, dtype=torch.float64)
    out = flow.integrate(velocity, x, None, steps=steps, solver=solver)
    np.testing.assert_allclose(out.numpy(), exact, rtol=1e-12)
    assert len(calls) == steps * flow.SOLVERS[solver]
    assert min(calls) == 0.0 and max(calls) <= 1.0
    # a field constant in x integrates exactly whatever the steps: x(1) = x(0) + ∫ 2t dt
    out = flow.integrate(lambda x, t, c: 2 * t[:, None] + 0 * x, x, None, steps=2, solver=solver)
    if solver != "euler":
        np.testing.assert_allclose(out.numpy(), 2.0, rtol=1e-12)
    with pytest.raises(ValueError, match="rk4"):
        flow.integrate(velocity, x, None, steps=1, solver="rk4")


def test_bad_flow_settings_name_the_key():
    with pytest.raises(ValueError, match=r"calorimeter\.trained\.flow\.solver"):
        flow.FlowConfig(solver="rk4")
    with pytest.raises(ValueError, match=r"calorimeter\.trained\.flow\.steps"):
        flow.FlowConfig(steps=0)
    with pytest.raises(ValueError, match=r"calorimeter\.trained\.flow\.zero_gap"):
        flow.FlowConfig(zero_gap=-1.0)


def test_tiny_training_learns_and_generates_conditioned_showers(truth_file):
    torch.set_num_threads(1)
    cfg = flow.FlowConfig(
        hidden=(64, 64), epochs=15, batch_size=40, lr=3e-3, steps=8, hit_calibration=300
    )
    trainer = flow.FlowTrainer(_data(truth_file), cfg, seed=3)
    fixed = trainer.batch(*_truth(truth_file), np.random.default_rng(0))  # the same draws twice
    with torch.no_grad():
        before = float(trainer.loss(*fixed))
    flow.train(trainer, log_every=0)
    with torch.no_grad():
        after = float(trainer.loss(*fixed))
    # the loss fell: from ~2 (a zero velocity: E|x1 - x0|²) towards ~1.6, the floor of a
    # Gaussian with the data's moments (2 - 2 (1 - pi/4))
    assert before > 1.9 and after < 0.9 * before
    geometry = detector_from_config(DETECTOR)
    gen = trainer.generator()
    te, ts = _truth(truth_file)
    for energy in SPECTRUM["discrete"]:
        showers = gen.generate(np.full(300, energy), np.random.default_rng(1), geometry.shape)
        assert showers.shape == (300, geometry.n_voxels) and (showers >= 0).all()
        truth = ts[te == energy]
        # the condition is learned: the visible energy and the number of hits follow E
        e_vis = showers.sum(1).mean()
        assert e_vis == pytest.approx(truth.sum(1).mean(), rel=0.15)
        hits = (showers > 0).sum(1).mean()
        assert hits == pytest.approx((truth > 0).sum(1).mean(), rel=0.25)
        assert (showers[showers > 0] >= np.float32(trainer.stats.e_min)).all()
    # calibrated hit boundaries: each voxel hit as often as in training, at each energy
    assert gen.boundaries.shape == (2, geometry.n_voxels)
    for k, energy in enumerate(SPECTRUM["discrete"]):
        showers = gen.generate(np.full(2000, energy), np.random.default_rng(5), geometry.shape)
        p = trainer.stats.hit_fraction[k]
        hits = (showers > 0).sum(1).mean()
        # the calibration's own 300 showers and these 2,000 differ by sampling noise alone
        assert hits == pytest.approx(p.sum(), rel=0.03)
    # the sampler's step count is a setting: another count, other showers from the same noise
    a = gen.generate(np.full(50, 1.024), np.random.default_rng(2), geometry.shape, steps=1)
    b = gen.generate(np.full(50, 1.024), np.random.default_rng(2), geometry.shape, steps=8)
    c = gen.generate(np.full(50, 1.024), np.random.default_rng(2), geometry.shape)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(b, c)  # the configured 8
    # what the job saves comes back whole, boundaries included
    again = flow.FlowGenerator.from_state(gen.state())
    d = again.generate(np.full(50, 1.024), np.random.default_rng(2), geometry.shape)
    np.testing.assert_array_equal(c, d)


def test_training_resumes_bit_for_bit_after_a_kill(truth_file, tmp_path):
    torch.set_num_threads(1)
    ckpt = tmp_path / "flow.pt"

    def trainer():
        return flow.FlowTrainer(_data(truth_file), TINY, seed=9)

    straight = flow.train(trainer(), log_every=0)
    calls = iter(range(100))
    with pytest.raises(Preempted):  # killed (SIGTERM) after its second epoch
        flow.train(trainer(), checkpoint_path=ckpt, should_stop=lambda: next(calls) == 1)
    assert ckpt.exists()
    resumed = trainer()
    flow.train(resumed, checkpoint_path=ckpt, log_every=0)
    assert resumed.epoch == straight.epoch == TINY.epochs
    for a, b in zip(
        straight.net.state_dict().values(), resumed.net.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    np.testing.assert_array_equal(straight.generator().boundaries, resumed.generator().boundaries)
    # a checkpoint of other settings is not continued; the sampler's too are part of the model
    other = flow.FlowTrainer(
        _data(truth_file), flow.FlowConfig(**{**TINY.__dict__, "lr": 2e-3}), seed=9
    )
    assert other.fingerprint != resumed.fingerprint


def _shared(**flow_settings):
    return {
        "model": "vae",
        "latent_dim": 4,
        "hidden": [16],
        "epochs": 10,
        "batch_size": 40,
        "lr": 1e-3,
        "beta": 1.0,
        "alpha": 1e-2,
        "flow": {
            "hidden": [16, 16],
            "epochs": 2,
            "batch_size": 40,
            "lr": 1e-3,
            "steps": 3,
            "solver": "heun",
            "zero_width": 1.0,
            "zero_gap": 1.0,
            "hit_calibration": 0,
            "whiten": True,
        }
        | flow_settings,
    }


def test_generator_training_keeps_the_chosen_models_settings():
    vae = generator_training(_shared(), {"kind": "trained"})
    # the VAE's settings as before the choice existed (its trained models stay current)
    assert "model" not in vae and "flow" not in vae
    assert vae["epochs"] == 10 and vae["latent_dim"] == 4
    chosen = generator_training(
        _shared(), {"kind": "trained", "training": {"model": "flow", "flow": {"steps": 7}}}
    )
    assert chosen == {
        "model": "flow",
        "hidden": [16, 16],
        "epochs": 2,
        "batch_size": 40,
        "lr": 1e-3,
        "steps": 7,  # the study's, merged key by key over the shared flow section
        "solver": "heun",
        "zero_width": 1.0,
        "zero_gap": 1.0,
        "hit_calibration": 0,
        "whiten": True,
    }
    with pytest.raises(ValueError, match=r"calorimeter\.trained\.model"):
        generator_training(_shared() | {"model": "gan"}, {"kind": "trained"})


def test_jobs_train_then_generate_a_chunk_with_the_flow(truth_file, tmp_path):
    model = tmp_path / "generator/model.pt"
    ckpt = tmp_path / "ckpt.pt"
    training = generator_training(_shared(), {"kind": "trained", "training": {"model": "flow"}})
    features = tmp_path / "truth_features.h5"
    write_h5(features, {"evaluation": np.zeros(120, dtype=bool)})
    train_shower_generator(
        [(str(truth_file), formats.CALOCHALLENGE, 0, 120)],
        features,
        model,
        calo="t",
        n_train=120,
        training=training,
        seed=1,
        checkpoint=ckpt,
    )
    assert model.exists() and not ckpt.exists()
    gen = load_generator(model)
    assert isinstance(gen, flow.FlowGenerator) and gen.cfg.steps == 3 and gen.cfg.solver == "heun"
    assert gen.boundaries is None  # hit_calibration 0 in these settings
    out = tmp_path / "gen/0.h5"
    kw = dict(
        calo="t", sample="generated", n=130, detector=DETECTOR, incident_energy=SPECTRUM, seed=1
    )
    generate_showers(model, out, index=0, **kw)
    source = formats.validate(out, detector_from_config(DETECTOR))
    assert source.n_showers == 130
    e, s = next(formats.iter_showers(source, 200))
    assert set(np.round(e, 3)) <= set(SPECTRUM["discrete"]) and (s >= 0).all()
    again = tmp_path / "gen/again.h5"
    generate_showers(model, again, index=0, **kw)  # a rerun job writes the same showers
    _, s2 = next(formats.iter_showers(formats.inspect(again, detector_from_config(DETECTOR)), 200))
    np.testing.assert_array_equal(s, s2)


def _config_with(trained_update):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["calorimeter"]["trained"].update(trained_update)
    return config


@pytest.mark.parametrize(
    "update, key",
    [
        ({"model": "gan"}, "calorimeter.trained.model"),
        ({"flow": {"steps": 0}}, "calorimeter.trained.flow"),  # its other keys are required
        ({"flow": {"typo": 1}}, "calorimeter.trained.flow"),
    ],
)
def test_bad_model_settings_name_the_key(update, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_config(_config_with(update))


def test_flow_is_a_valid_model():
    config = _config_with({"model": "flow"})
    validate_config(config)
    study = config["calorimeter"]["studies"]["dataset1_photons"]
    study["generator"] = {"kind": "trained", "n_showers": 100, "training": {"flow": {"steps": 0}}}
    with pytest.raises(
        ConfigError, match=r"calorimeter\.studies\.dataset1_photons\.generator\.training\.flow"
    ):
        validate_config(config)


@pytest.mark.workflow
def test_the_workflow_trains_and_samples_the_flow(tmp_path):
    """``model: flow`` through Snakemake: a tiny dataset-1 study's generator is the flow."""
    extra = tmp_path / "flow.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "parts": ["calorimeter"],
                "calorimeter": {
                    "run": ["dataset1_photons"],
                    "studies": {
                        "dataset1_photons": {
                            "truth": {"n_showers": 120},
                            "generator": {"kind": "trained", "n_showers": 120},
                            "chunk": 120,
                        }
                    },
                    "amplification": {"run": []},
                    "forecast": {"run": [], "ensembles": {}},
                    "trained": {
                        "model": "flow",
                        "flow": {"hidden": [16], "epochs": 2, "steps": 2, "solver": "euler"},
                    },
                },
            }
        )
    )
    target = "results/calorimeter/dataset1_photons/generated/learned/0.h5"
    work = tmp_path / "work"
    configs = ["--configfile", *DEMO_CONFIGS, str(extra)]
    run(snakemake_cmd(target, "--cores", "1", *configs, workdir=work))
    state = torch.load(
        work / "results/calorimeter/dataset1_photons/generator/120/model.pt", weights_only=False
    )
    assert state["model"] == "flow" and state["config"]["steps"] == 2
    assert len(state["history"]) == 2
    source = formats.validate(work / target, detector_from_config(DETECTOR))
    assert source.n_showers == 120
