"""Probes against numbers worked out by hand from METHODS.md §2/§3 (not from the code)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression

from postmech_eval.estimators.probes import (
    LogisticProbe,
    MassMeanProbe,
    center_by_group,
    class_separation,
    leave_one_dataset_out,
    make_probe,
)
from tests.references import fit_heldout, heldout_masks

# true rows [2,1], [4,3] (mean [3,2]); false rows [0,1], [-2,-1] (mean [-1,0])
X_HAND = np.array([[2.0, 1.0], [4.0, 3.0], [0.0, 1.0], [-2.0, -1.0]])
Y_HAND = np.array([1, 1, 0, 0])


def test_mass_mean_probe_by_hand():
    probe = MassMeanProbe().fit(X_HAND, Y_HAND)
    # theta = [3,2] - [-1,0] = [4,2]; |theta| = sqrt(20)
    np.testing.assert_allclose(probe.coef_, [4.0, 2.0])
    np.testing.assert_allclose(probe.direction_, [4 / 20**0.5, 2 / 20**0.5])
    # scores s = x.theta: true 10, 22; false 2, -10. The set is mirror-symmetric about
    # s = 6 with labels swapped, so the 1-D logistic boundary is exactly s = 6.
    assert probe.threshold_ == pytest.approx(6.0, abs=1e-6)
    np.testing.assert_allclose(probe.decision_function([[1.0, 0.0], [2.0, 0.0]]), [4 - 6, 8 - 6], atol=1e-6)
    np.testing.assert_array_equal(probe.predict([[1.0, 0.0], [2.0, 0.0]]), [0, 1])
    assert probe.score(X_HAND, Y_HAND) == 1.0
    # METHODS §3 scaling of a mass-mean direction gives theta back: ((mu_t-mu_f).u) u = |theta| u.
    np.testing.assert_allclose(probe.steering_vector_, [4.0, 2.0])


def test_class_separation_by_hand():
    # true rows mean [3,3], false rows mean [1,1]: gap [2,2]
    X = np.array([[2.0, 5.0], [4.0, 1.0], [0.0, 0.0], [2.0, 2.0]])
    y = np.array([1, 1, 0, 0])
    # u = [1,0] (given unnormalised as [3,0]): gap.u = 2 -> d = [2,0]
    np.testing.assert_allclose(class_separation([3.0, 0.0], X, y), [2.0, 0.0])
    # u = [0.6,0.8]: gap.u = 1.2 + 1.6 = 2.8 -> d = [1.68, 2.24]
    np.testing.assert_allclose(class_separation([3.0, 4.0], X, y), [1.68, 2.24])
    # opposite direction: same vector (sign follows the data, not the direction)
    np.testing.assert_allclose(class_separation([-3.0, -4.0], X, y), [1.68, 2.24])
    with pytest.raises(ValueError, match="non-zero"):
        class_separation([0.0, 0.0], X, y)


def test_center_by_group_by_hand():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [10.0, 10.0], [20.0, 30.0]])
    out = center_by_group(X, ["a", "a", "b", "b"])
    np.testing.assert_allclose(out, [[-1, -1], [1, 1], [-5, -10], [5, 10]])
    with pytest.raises(ValueError, match="'groups'"):
        center_by_group(X, ["a"])


def test_logistic_probe_matches_sklearn_and_accepts_torch():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    X = rng.normal(size=(40, 5)) + np.outer(2 * y - 1, [1.5, 0, 0, 0, 0])
    X32 = X.astype(np.float32).astype(np.float64)
    probe = LogisticProbe(C=0.5).fit(torch.tensor(X, dtype=torch.float32), y)
    # reference: scikit-learn on X / rms(X), weights mapped back to the units of X
    scale = np.sqrt(np.mean(X32**2))
    ref = LogisticRegression(C=0.5, max_iter=1000).fit(X32 / scale, y)
    np.testing.assert_allclose(probe.coef_, ref.coef_[0] / scale, rtol=1e-4, atol=1e-6)
    assert probe.threshold_ == pytest.approx(-ref.intercept_[0], rel=1e-4, abs=1e-6)
    np.testing.assert_array_equal(probe.predict(X32), ref.predict(X32 / scale))
    assert probe.direction_[0] > 0.9
    assert clone(probe).get_params()["C"] == 0.5
    # scale-free: the same data 1000x larger gives the same direction and predictions
    big = LogisticProbe(C=0.5).fit(1000 * X32, y)
    np.testing.assert_allclose(big.direction_, probe.direction_, atol=1e-6)
    np.testing.assert_array_equal(big.predict(1000 * X32), probe.predict(X32))


def test_probe_input_errors():
    with pytest.raises(NotFittedError):
        MassMeanProbe().predict(X_HAND)
    with pytest.raises(ValueError, match="both classes"):
        MassMeanProbe().fit(X_HAND, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="only 0 and 1"):
        MassMeanProbe().fit(X_HAND, [1, 2, 0, 0])
    with pytest.raises(ValueError, match="4 labels"):
        LogisticProbe().fit(X_HAND, [1, 0])
    with pytest.raises(ValueError, match="2-D"):
        MassMeanProbe().fit(X_HAND[0], Y_HAND)
    with pytest.raises(ValueError, match="'C' parameter"):
        LogisticProbe(C=-1).fit(X_HAND, Y_HAND)
    with pytest.raises(ValueError, match="2 columns"):
        MassMeanProbe().fit(X_HAND, Y_HAND).predict(np.ones((1, 3)))
    with pytest.raises(ValueError, match="zero direction"):
        MassMeanProbe().fit(np.ones((4, 2)), Y_HAND)
    with pytest.raises(ValueError, match="'probe' parameter"):
        make_probe("svm")


def _grouped_data(seed: int = 0):
    """Three datasets sharing one truth axis (e0) but sitting at different offsets."""
    rng = np.random.default_rng(seed)
    X, y, groups = [], [], []
    for name, offset in (("a", 8.0), ("b", -8.0), ("c", 20.0)):
        labels = np.repeat([0, 1], 30)
        acts = rng.normal(scale=0.5, size=(60, 4)) + np.outer(2 * labels - 1, [1.0, 0, 0, 0])
        acts[:, 0] += offset
        acts[:, 1] += offset
        X.append(acts)
        y.append(labels)
        groups += [name] * 60
    return np.concatenate(X), np.concatenate(y), groups


def test_leave_one_dataset_out_needs_centering():
    X, y, groups = _grouped_data()
    accs = leave_one_dataset_out(MassMeanProbe(), X, y, groups)
    assert set(accs) == {"a", "b", "c"}
    assert min(accs.values()) > 0.95
    # Without centering, dataset c sits far on the "true" side of the a/b threshold.
    assert fit_heldout(MassMeanProbe(), X, y, groups, "c", center=False).accuracy == pytest.approx(0.5)
    fit = fit_heldout(LogisticProbe(), X, y, groups, "c", train=["a"])
    assert fit.accuracy > 0.95
    assert fit.train_mask.sum() == 60 and fit.test_mask.sum() == 60


def test_heldout_masks_errors():
    groups = ["cities", "cities", "facts"]
    with pytest.raises(KeyError, match="Did you mean"):
        heldout_masks(groups, "citys")
    with pytest.raises(ValueError, match="must not also"):
        heldout_masks(groups, "cities", train=["cities", "facts"])
    trn, test = heldout_masks(groups, "facts")
    np.testing.assert_array_equal(trn, [True, True, False])
    np.testing.assert_array_equal(test, [False, False, True])
