"""Linear truth probes with a scikit-learn estimator API (METHODS.md §2).

Why estimators: the truth analyses fit a probe on one model's activations and then
apply it to another model's (transfer), sweep it over layers, and turn it into a
steering vector. Keeping "learn from data" (``fit``) apart from "use what was learnt"
(``predict`` / ``score`` / the fitted ``coef_``, ``direction_``, ``threshold_``)
makes each of those one line, and ``sklearn.base.clone`` works on them.

Shapes: ``X`` is ``[n_samples, d_model]`` (numpy array or CPU torch tensor), ``y`` is
``[n_samples]`` with 1 = true statement, 0 = false statement, ``groups`` names each
sample's dataset (used for per-dataset centering and leave-one-dataset-out).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from postmech_eval.config import UserError


def _as_array(value: Any, name: str, owner: str, ndim: int) -> np.ndarray:
    """Numpy float64 view of `value` (numpy or torch), checked for rank and finiteness."""
    if hasattr(value, "detach"):  # torch tensor: no torch import needed here
        value = value.detach().cpu().double().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != ndim:
        raise UserError(f"The {name!r} parameter of {owner} must be {ndim}-D. Got shape {arr.shape} instead.")
    if arr.shape[0] == 0:
        raise UserError(
            f"The {name!r} parameter of {owner} must be non-empty. Got shape {arr.shape} instead."
        )
    if not np.all(np.isfinite(arr)):
        raise UserError(f"The {name!r} parameter of {owner} must be finite. Got NaN or inf instead.")
    return arr


def _check_labels(y: Any, n: int, owner: str) -> np.ndarray:
    """Binary labels {0, 1} of length `n` with both classes present."""
    arr = _as_array(y, "y", owner, ndim=1)
    if arr.shape[0] != n:
        raise UserError(
            f"The 'y' parameter of {owner} must have {n} labels (one per row of X). Got {arr.shape[0]} instead."
        )
    values = set(np.unique(arr).tolist())
    if not values <= {0.0, 1.0}:
        raise UserError(
            f"The 'y' parameter of {owner} must contain only 0 and 1. Got {sorted(values)} instead."
        )
    if values != {0.0, 1.0}:
        raise UserError(
            f"The 'y' parameter of {owner} must contain both classes 0 and 1. Got only {sorted(values)} instead."
        )
    return arr.astype(np.int64)


def class_separation(direction: Any, X: Any, y: Any) -> np.ndarray:
    """Steering vector d = ((mu_true - mu_false) . u) u with u = direction / |direction|.

    Why rescale: a probe direction has arbitrary length; METHODS.md §3 steers by the
    mean class separation measured along it, so "+d" moves a typical false statement
    as far as the typical distance to the true ones. For a mass-mean probe
    (direction = mu_true - mu_false) this is the direction itself.
    """
    owner = "class_separation"
    u = _as_array(direction, "direction", owner, ndim=1)
    X = _as_array(X, "X", owner, ndim=2)
    y = _check_labels(y, X.shape[0], owner)
    if X.shape[1] != u.shape[0]:
        raise UserError(
            f"The 'X' parameter of {owner} must have {u.shape[0]} columns. Got {X.shape[1]} instead."
        )
    norm = np.linalg.norm(u)
    if norm == 0:
        raise UserError(
            f"The 'direction' parameter of {owner} must be non-zero. Got the zero vector instead."
        )
    u = u / norm
    gap = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)
    return float(gap @ u) * u


class _LinearProbe(ClassifierMixin, BaseEstimator):
    """Shared predict/score of a probe that scores x as x . coef_ - threshold_.

    Fitted attributes: ``coef_`` [d] (the probe's weight vector), ``direction_`` [d]
    (unit-norm coef_), ``threshold_`` (score at which the prediction flips),
    ``steering_vector_`` [d] (see `class_separation`, on the training data),
    ``classes_`` = [0, 1], ``n_features_in_``.
    """

    def _finish_fit(self, X: np.ndarray, y: np.ndarray, coef: np.ndarray, threshold: float) -> None:
        norm = np.linalg.norm(coef)
        if norm == 0:
            raise UserError(
                f"{type(self).__name__}.fit found a zero direction: the true and false rows of X "
                "have the same mean. Check that the activations differ between statements."
            )
        self.coef_ = coef
        self.direction_ = coef / norm
        self.threshold_ = float(threshold)
        self.steering_vector_ = class_separation(self.direction_, X, y)
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]

    def decision_function(self, X: Any) -> np.ndarray:
        """Signed score [n]: positive means "true"."""
        check_is_fitted(self, "coef_")
        X = _as_array(X, "X", f"{type(self).__name__}.decision_function", ndim=2)
        if X.shape[1] != self.n_features_in_:
            raise UserError(
                f"The 'X' parameter of {type(self).__name__}.decision_function must have "
                f"{self.n_features_in_} columns (as in fit). Got {X.shape[1]} instead."
            )
        return X @ self.coef_ - self.threshold_

    def predict(self, X: Any) -> np.ndarray:
        """Labels [n] in {0, 1}."""
        return (self.decision_function(X) > 0).astype(np.int64)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy of `predict(X)` against labels `y`."""
        pred = self.predict(X)
        y = _as_array(y, "y", f"{type(self).__name__}.score", ndim=1)
        if y.shape[0] != pred.shape[0]:
            raise UserError(
                f"The 'y' parameter of {type(self).__name__}.score must have {pred.shape[0]} labels. Got {y.shape[0]} instead."
            )
        return float(np.average(pred == y, weights=sample_weight))


class MassMeanProbe(_LinearProbe):
    """Mass-mean probe: theta = mean(true rows) - mean(false rows); s = x . theta.

    The threshold on s comes from a 1-D logistic regression on the training scores
    (METHODS.md §2), fitted on standardised s so that the regularisation does not
    depend on the activation scale. ``coef_`` is theta itself (not normalised), so
    ``steering_vector_`` equals ``coef_``.
    """

    def fit(self, X: Any, y: Any) -> MassMeanProbe:
        owner = "MassMeanProbe.fit"
        X = _as_array(X, "X", owner, ndim=2)
        y = _check_labels(y, X.shape[0], owner)
        theta = X[y == 1].mean(axis=0) - X[y == 0].mean(axis=0)
        s = X @ theta
        scale = float(s.std()) or 1.0
        lr = LogisticRegression(tol=1e-10).fit((s / scale)[:, None], y)
        slope, intercept = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        if slope > 0:
            threshold = -intercept / slope * scale
        else:  # scores do not order the classes: fall back to the midpoint of the class means
            threshold = 0.5 * (s[y == 1].mean() + s[y == 0].mean())
        self._finish_fit(X, y, theta, threshold)
        return self


class LogisticProbe(_LinearProbe):
    """Logistic-regression probe on the full activations (scikit-learn's solver).

    Parameters are passed to ``sklearn.linear_model.LogisticRegression``. X is divided by
    one global scale (the RMS of its entries) before the fit and the weights mapped back,
    so ``C`` means the same for a model whose residual stream is 100x larger and the
    solver converges on raw activations. ``coef_`` is the weight vector in the units of
    X; ``threshold_ = -intercept``.
    """

    def __init__(
        self, C: float = 1.0, max_iter: int = 1000, fit_intercept: bool = True, random_state: int = 0
    ):
        self.C = C
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> LogisticProbe:
        owner = "LogisticProbe.fit"
        if not (isinstance(self.C, int | float) and self.C > 0):
            raise UserError(
                f"The 'C' parameter of LogisticProbe must be a float > 0. Got {self.C!r} instead."
            )
        X = _as_array(X, "X", owner, ndim=2)
        y = _check_labels(y, X.shape[0], owner)
        scale = float(np.sqrt(np.mean(X**2))) or 1.0
        lr = LogisticRegression(
            C=self.C, max_iter=self.max_iter, fit_intercept=self.fit_intercept, random_state=self.random_state
        ).fit(X / scale, y)
        self._finish_fit(X, y, lr.coef_[0] / scale, -float(lr.intercept_[0]))
        return self


PROBES: dict[str, type[_LinearProbe]] = {"mm": MassMeanProbe, "lr": LogisticProbe}


def make_probe(kind: str) -> _LinearProbe:
    """A fresh probe by short name ("mm" mass-mean, "lr" logistic regression)."""
    if kind not in PROBES:
        raise UserError(f"The 'probe' parameter must be one of {sorted(PROBES)}. Got {kind!r} instead.")
    return PROBES[kind]()


def center_by_group(X: Any, groups: Sequence[Hashable]) -> np.ndarray:
    """Subtract from each row the mean of its group's rows (METHODS.md §2).

    Why: datasets differ in topic, so their activations sit in different places;
    centering each dataset removes that offset, leaving the truth signal that is
    shared across datasets for the probe to find.
    """
    X = _as_array(X, "X", "center_by_group", ndim=2)
    keys = list(groups)
    if len(keys) != X.shape[0]:
        raise UserError(
            f"The 'groups' parameter of center_by_group must have {X.shape[0]} entries. Got {len(keys)} instead."
        )
    out = X.copy()
    labels = np.array([str(k) for k in keys])
    for g in np.unique(labels):
        rows = labels == g
        out[rows] -= X[rows].mean(axis=0)
    return out


def leave_one_dataset_out(
    probe: _LinearProbe, X: Any, y: Any, groups: Sequence[Hashable], center: bool = True
) -> dict[str, float]:
    """Held-out accuracy for every group: train on all the others, test on it
    (scikit-learn's ``LeaveOneGroupOut``; each group centred by its own mean first)."""
    from sklearn.model_selection import LeaveOneGroupOut

    X = center_by_group(X, groups) if center else _as_array(X, "X", "leave_one_dataset_out", ndim=2)
    y = _as_array(y, "y", "leave_one_dataset_out", ndim=1)
    keys = np.array([str(g) for g in groups])
    out: dict[str, float] = {}
    for trn, test in LeaveOneGroupOut().split(X, y, keys):
        fitted = clone(probe).fit(X[trn], y[trn])
        out[str(keys[test][0])] = float(fitted.score(X[test], y[test]))
    return dict(sorted(out.items()))


def statement_activations(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layers: Sequence[int],
    batch_size: int,
    context: Any = None,
) -> Any:
    """Residual stream output of ``layers`` (``blocks.{l}.resid_post``) at each bare statement's
    last token: a tensor [n_layers, n, d]. METHODS §2's probe input.

    The capture is one per-item step of the shared map (``postmech_eval.engine.shard``): each
    rank of a data-parallel run captures its share, and with ``context`` (what the result
    depends on: the model's fingerprint, ...) every statement's [n_layers, d] is cached."""
    import torch

    from postmech_eval.engine.capture import collect_items
    from postmech_eval.engine.sites import make_site

    sites = [make_site(layer, "resid_post") for layer in layers]
    acts = collect_items(
        model, tokenizer, list(texts), sites, (-1,), batch_size, step="statement_activations", context=context
    )
    return torch.stack([acts[s][:, 0, :] for s in sites])


def fit_probe(acts: Any, statements: Sequence[Any], kind: str) -> _LinearProbe:
    """A probe of ``kind`` fitted on activations [n, d] of ``statements`` (objects with
    ``dataset`` and ``label``), each dataset centred by its own mean first (METHODS §2)."""
    X = center_by_group(acts, [s.dataset for s in statements])
    return make_probe(kind).fit(X, [s.label for s in statements])
