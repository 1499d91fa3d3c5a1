"""The words a profile is made of: attack and metric names, slices, derived seeds.

Plain values and pure functions, no TensorFlow and no NumPy: every layer above
speaks them (test ids, baseline keys, results), and option parsing, collection
and ``pytest --help`` read them on every run.
"""

from __future__ import annotations

import hashlib
from typing import Mapping, Sequence


#: TF Privacy ``AttackType`` member names, by the short name used in test ids
#: and baseline keys.
ATTACKS: Mapping[str, str] = {
    "threshold": "THRESHOLD_ATTACK",
    "logistic_regression": "LOGISTIC_REGRESSION",
    "threshold_entropy": "THRESHOLD_ENTROPY_ATTACK",
    "mlp": "MULTI_LAYERED_PERCEPTRON",
    "random_forest": "RANDOM_FOREST",
    "knn": "K_NEAREST_NEIGHBORS",
}

#: Attacks that compare the model's outputs with those of reference models trained
#: the same way on random halves of the population (:mod:`privacy_checks.train.references`):
#: Carlini et al.'s LiRA (offline: OUT references only, one-sided; online: IN and
#: OUT) and Zarifzadeh et al.'s RMIA (offline). Each needs a number of reference
#: models, ``Profile.reference_models[attack]``.
REFERENCE_ATTACKS: tuple[str, ...] = ("lira_offline", "lira_online", "rmia")


def reference_model_problems(attacks: tuple[str, ...], reference_models: Mapping[str, int]) -> list[str]:
    """What is wrong with a profile's reference models per attack (empty if nothing).

    References come in complementary pairs (each example is IN for exactly
    half of them), so every K is even; an attack without references, or
    references for an attack the profile does not run, is a mistake.
    """
    found = []
    for attack, k in reference_models.items():
        if attack not in REFERENCE_ATTACKS:
            found.append(
                f"reference_models names {attack!r}, which is no reference-model attack; "
                f"use {', '.join(REFERENCE_ATTACKS)}."
            )
        elif attack not in attacks:
            found.append(
                f"reference_models names {attack!r}, which is not among the attacks {list(attacks)}: "
                f"add {attack!r} to attacks, or remove it from reference_models."
            )
        if not (isinstance(k, int) and not isinstance(k, bool) and k >= 2 and k % 2 == 0):
            found.append(
                f"reference_models[{attack!r}] must be an even number >= 2 (references come in "
                f"complementary pairs), got {k!r}: set it to an even number, e.g. 2 or 16."
            )
    missing = [a for a in attacks if a in REFERENCE_ATTACKS and a not in reference_models]
    if missing:
        found.append(
            f"attacks {missing} need reference models: set reference_models = "
            f"{{{', '.join(f'{a!r}: 4' for a in missing)}}} (an even number per attack)."
        )
    return found


#: Metrics every profile checks, named after TF Privacy's ``PrivacyMetric``; each
#: profile adds the true-positive rate at its low false-positive rates
#: (:attr:`Profile.metrics`).
METRICS: tuple[str, ...] = ("auc", "attacker_advantage")

#: The false-positive rates whose TPR is checked unless a profile says otherwise:
#: the two operating points of Carlini et al.'s "first principles" paper.
DEFAULT_FPRS: tuple[float, ...] = (0.001, 0.01)

ENTIRE_DATASET = "entire_dataset"

#: DP-SGD's delta unless a model says otherwise, and the delta at which the
#: epsilon lower bounds of non-private models are stated.
DEFAULT_DELTA = 1e-5


_TPR_PREFIX = "tpr_at_fpr_"


def tpr_metric(fpr: float) -> str:
    """The metric name of TPR at ``fpr``: ``tpr_at_fpr_0.001``."""
    return f"{_TPR_PREFIX}{fpr:g}"


def metric_fpr(name: str) -> float | None:
    """The FPR of a TPR metric name, or None for any other name (or a malformed one)."""
    if not name.startswith(_TPR_PREFIX):
        return None
    try:
        value = float(name[len(_TPR_PREFIX) :])
    except ValueError:
        return None
    return value if 0 < value < 1 and tpr_metric(value) == name else None


def check_fprs(fprs: Sequence[float]) -> list[str]:
    """Problems with a profile's FPR list, for its validation."""
    problems = [f"fpr {f!r} must lie in (0, 1)" for f in fprs if not (isinstance(f, float) and 0 < f < 1)]
    if len(set(fprs)) != len(fprs):
        problems.append(f"fprs {tuple(fprs)} repeat a value")
    return problems


def derive_seed(seed: int, *parts: object) -> int:
    """A stable 32-bit seed for one part of a run (e.g. ``"attack", "2_layers", 10``).

    Each model and each report epoch gets its own seed, so a result does not
    depend on which other tests ran before it (``-k`` selections, ordering).
    """
    text = "/".join(str(p) for p in (seed, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def class_slice(label: int) -> str:
    """The slice name of one class (TF Privacy prints it as ``CLASS=3``)."""
    return f"class_{label}"
