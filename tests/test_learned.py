"""The learned shower generator (ganplify.calo.learned, jobs.calo_generator): its encoding, its
statistics, a tiny training, and exact resume after a kill."""

import numpy as np
import pytest
import torch

from ganplify.calo import formats, learned
from ganplify.calo.detector import detector_from_config
from ganplify.core.config import ConfigError, validate_config
from ganplify.core.io import write_h5
from ganplify.core.runtime import Preempted
from ganplify.jobs.calo_generator import (
    generate_showers,
    generator_training,
    load_generator,
    train_shower_generator,
    training_showers,
)
from ganplify.jobs.calo_showers import simulate_showers

DETECTOR = "dataset1-photons"
SPECTRUM = {"discrete": [1.024, 4.096, 16.384]}


@pytest.fixture(scope="module")
def truth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("learned") / "truth.h5"
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


def _segments(path, n=240):
    return [(str(path), formats.CALOCHALLENGE, 0, n)]


TINY = learned.VAEConfig(latent_dim=4, hidden=(32,), epochs=4, batch_size=40)


def test_decode_inverts_encode_above_the_threshold(truth_file):
    data = learned.ShowerSlices(_segments(truth_file), 240)
    e, s = data.read(data.parts[0])
    x, log_e = encode_pair = learned.encode(e, s, 1e-2)
    assert x.shape == (240, s.shape[1] + 1)
    np.testing.assert_allclose(np.exp(log_e), e * 1e3)
    back = learned.decode(x, e, 1e-2, e_min=float(s[s > 0].min()))
    np.testing.assert_allclose(back, s, rtol=1e-5, atol=1e-4)
    # a threshold above a voxel empties it and gives its energy to the others: E_vis is kept
    cut = learned.decode(x, e, 1e-2, e_min=50.0)
    assert (cut[(s > 0) & (s < 50.0)] == 0).all()
    kept = (s >= 50.0).any(1)  # (a shower with no voxel above it is empty)
    assert kept.sum() > 100 and (cut[~kept] == 0).all()
    np.testing.assert_allclose(cut[kept].sum(1), s[kept].sum(1), rtol=1e-5)
    # given the hits: exactly those voxels are hit, and the encoding comes back
    hits = s > 0
    given = learned.decode(x, e, 1e-2, e_min=float(s[hits].min()), hits=hits)
    assert ((given > 0) == hits).all()
    np.testing.assert_allclose(given, s, rtol=1e-5, atol=1e-4)
    # an empty voxel declared hit gets the threshold's energy, taken from the others
    extra = hits.copy()
    extra[:, 0] = True
    lifted = learned.decode(x, e, 1e-2, e_min=1.0, hits=extra)
    assert (lifted > 0).sum() == extra.sum() and (lifted[:, 0] > 0.9).all()
    np.testing.assert_allclose(lifted.sum(1), s.sum(1), rtol=1e-5)
    del encode_pair


def test_standardisation_is_the_samples_mean_and_std(truth_file):
    data = learned.ShowerSlices(_segments(truth_file), 70)  # several slices, the last short
    stats = learned.standardisation(data, 1e-2)
    e, s = learned.ShowerSlices(_segments(truth_file), 240).read(
        data.parts[0].__class__(str(truth_file), formats.CALOCHALLENGE, 0, 240, 0)
    )
    x, c = learned.encode(e, s, 1e-2)
    std = x.std(0)
    std[std < 1e-6] = 1.0
    np.testing.assert_allclose(stats.mean, x.mean(0), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(stats.std, std, rtol=1e-6, atol=1e-9)
    assert stats.c_mean == pytest.approx(c.mean()) and stats.c_std == pytest.approx(c.std())
    assert stats.e_min == s[s > 0].min() and stats.n == 240


def test_tiny_training_learns_and_generates_showers(truth_file):
    torch.set_num_threads(1)
    cfg = learned.VAEConfig(latent_dim=4, hidden=(64,), epochs=30, batch_size=40)
    trainer = learned.train(
        learned.VAETrainer(learned.ShowerSlices(_segments(truth_file), 40), cfg, seed=3),
        log_every=0,
    )
    first, last = trainer.history[0], trainer.history[-1]
    assert sum(last) < sum(first)  # the loss fell
    geometry = detector_from_config(DETECTOR)
    e = np.full(500, 4.096)
    showers = trainer.generator().generate(e, np.random.default_rng(1), geometry.shape)
    assert showers.shape == (500, geometry.n_voxels) and (showers >= 0).all()
    # the visible energy is learned: the simulator deposits ~all of 4 GeV in dataset 1's voxels
    data = learned.ShowerSlices(_segments(truth_file), 240)
    te, ts = data.read(data.parts[0])
    truth_fraction = (ts.sum(1) / (te * 1e3))[te == 4.096].mean()
    assert (showers.sum(1) / 4096.0).mean() == pytest.approx(truth_fraction, rel=0.15)
    # and the sparsity: the number of hits per shower
    truth_hits = (ts > 0).sum(1)[te == 4.096].mean()
    assert (showers > 0).sum(1).mean() == pytest.approx(truth_hits, rel=0.2)


def test_training_resumes_bit_for_bit_after_a_kill(truth_file, tmp_path):
    torch.set_num_threads(1)
    ckpt = tmp_path / "vae.pt"

    def trainer():
        return learned.VAETrainer(learned.ShowerSlices(_segments(truth_file), 40), TINY, seed=9)

    straight = learned.train(trainer(), log_every=0)
    calls = iter(range(100))
    with pytest.raises(Preempted):  # killed (SIGTERM) after its second epoch
        learned.train(trainer(), checkpoint_path=ckpt, should_stop=lambda: next(calls) == 1)
    resumed = trainer()
    learned.train(resumed, checkpoint_path=ckpt, log_every=0)
    assert resumed.epoch == straight.epoch == TINY.epochs
    for a, b in zip(
        straight.decoder.state_dict().values(), resumed.decoder.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    assert straight.history == resumed.history
    # a checkpoint of other settings is not continued
    other = learned.VAETrainer(
        learned.ShowerSlices(_segments(truth_file), 40),
        learned.VAEConfig(**{**TINY.__dict__, "lr": 2e-3}),
        seed=9,
    )
    assert other.fingerprint != resumed.fingerprint


def test_jobs_train_then_generate_a_chunk(truth_file, tmp_path):
    model = tmp_path / "generator/model.pt"
    ckpt = tmp_path / "ckpt.pt"
    training = generator_training(
        {
            "latent_dim": 4,
            "hidden": [16],
            "epochs": 10,
            "batch_size": 40,
            "lr": 1e-3,
            "beta": 1.0,
            "alpha": 1e-2,
            "threads": 1,
            "checkpoint_every": 5,
        },
        {"kind": "trained", "training": {"epochs": 3}},
    )
    assert training["epochs"] == 3 and "threads" not in training
    features = tmp_path / "truth_features.h5"
    write_h5(features, {"evaluation": np.zeros(200, dtype=bool)})
    train_shower_generator(
        _segments(truth_file, 200),
        features,
        model,
        calo="t",
        n_train=120,
        training=training,
        seed=1,
        checkpoint=ckpt,
    )
    assert model.exists() and not ckpt.exists()
    out = tmp_path / "gen/0.h5"
    kw = dict(
        calo="t", sample="generated", n=130, detector=DETECTOR, incident_energy=SPECTRUM, seed=1
    )
    generate_showers(model, out, index=0, **kw)
    source = formats.validate(out, detector_from_config(DETECTOR))
    assert source.n_showers == 130
    e, s = next(formats.iter_showers(source, 200))
    assert set(np.round(e, 3)) <= set(SPECTRUM["discrete"])
    # a rerun job writes the same showers; another chunk its own
    again = tmp_path / "gen/again.h5"
    generate_showers(model, again, index=0, **kw)
    other = tmp_path / "gen/1.h5"
    generate_showers(model, other, index=1, **kw)
    _, s2 = next(formats.iter_showers(formats.inspect(again, detector_from_config(DETECTOR)), 200))
    _, s3 = next(formats.iter_showers(formats.inspect(other, detector_from_config(DETECTOR)), 200))
    np.testing.assert_array_equal(s, s2)
    assert not np.array_equal(s, s3)
    assert load_generator(model).cfg.epochs == 3


def test_a_generator_trains_on_the_first_n_train_fitting_showers_only():
    """Never on an evaluation shower: the first n_train of the fitting ones."""
    evaluation = np.array([0, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    np.testing.assert_array_equal(
        training_showers(evaluation, 3, "s"), [True, False, True, True, False, False, False, False]
    )
    np.testing.assert_array_equal(training_showers(evaluation, 5, "s"), ~evaluation)
    with pytest.raises(ValueError, match=r"calorimeter\.studies\.s\.generator\.n_train"):
        training_showers(evaluation, 6, "s")


def _config_with(study_update):
    from pathlib import Path

    import yaml

    config = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())
    config["calorimeter"]["studies"]["dataset1_photons"].update(study_update)
    return config


@pytest.mark.parametrize(
    "update, key",
    [
        (
            {"generator": {"kind": "trained", "n_showers": 100, "n_train": 10**9}},
            "calorimeter.studies.dataset1_photons.generator.n_train",
        ),
        (
            {"generator": {"kind": "fastsim", "n_showers": 100, "n_train": 50}},
            "calorimeter.studies.dataset1_photons.generator.n_train",
        ),
        (
            {"evaluation": {"truth": {"kind": "trained", "n_showers": 100}}},
            "calorimeter.studies.dataset1_photons.evaluation.truth.kind",
        ),
        (
            {"generator": {"kind": "trained", "n_showers": 100, "training": {"alpha": 0}}},
            "calorimeter.studies.dataset1_photons.generator.training.alpha",
        ),
    ],
)
def test_bad_trained_generator_settings_name_the_key(update, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        validate_config(_config_with(update))


def test_a_trained_generator_is_a_valid_config():
    validate_config(
        _config_with({"generator": {"kind": "trained", "n_showers": 100, "n_train": 1000}})
    )
