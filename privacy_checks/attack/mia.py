"""TF Privacy's membership-inference vocabulary, as this project's own types.

TF Privacy 0.8.12 cannot be installed on Python 3.12+, NumPy 2 or
scikit-learn 1.7+, yet its attacks and their words (``AttackType``,
``SlicingSpec``, ``RocCurve``, ``AttackResults``) are what the codelab, the
baselines and users speak. This module redefines that vocabulary with NumPy
only, and :mod:`privacy_checks.attack.mia_attacks` the attacks, so that the current
lane measures the same things; on the codelab lane ``tests/test_mia.py``
checks them against TF Privacy number for number.

The types are frozen dataclasses (results are data passed between stages and
must not change under a reader's feet). Those holding arrays compare by
identity (``eq=False``): element-wise ``==`` on arrays has no single truth value.

Scope is the codelab's: single-label classification, with logits or
probabilities of shape ``(n, classes)`` and integer labels, sliced on the
entire dataset and by class. Unlike TF Privacy there are no sample weights,
multi-label data, percentile or custom slices, nor epsilon lower bounds (the
project computes its own in :mod:`privacy_checks.attack.accounting`).
"""

from __future__ import annotations

from typing import Optional, Sequence

from privacy_checks.attack.mia_input import AttackInputData
from privacy_checks.attack.mia_vocabulary import (
    ENTIRE_DATASET_SLICE_STR, AttackResults, AttackResultsCollection, AttackType, DataSize, PrivacyMetric,
    PrivacyReportMetadata, RocCurve, SingleAttackResult, SingleSliceSpec, SlicingFeature, SlicingSpec,
)

__all__ = [
    "ENTIRE_DATASET_SLICE_STR", "AttackInputData", "AttackResults", "AttackResultsCollection", "AttackType",
    "DataSize", "PrivacyMetric", "PrivacyReportMetadata", "RocCurve", "SingleAttackResult", "SingleSliceSpec",
    "SlicingFeature", "SlicingSpec", "run_attacks",
]


def run_attacks(
    attack_input: AttackInputData,
    slicing_spec: Optional[SlicingSpec] = None,
    attack_types: Sequence[AttackType] = (AttackType.THRESHOLD_ATTACK,),
    privacy_report_metadata: Optional[PrivacyReportMetadata] = None,
    **options,
) -> AttackResults:
    """Runs every attack on every slice; see :func:`privacy_checks.attack.mia_attacks.run_attacks`.

    Here so that the vocabulary and the entry point are one import; the
    attacks (and scikit-learn) load only when called.
    """
    from privacy_checks.attack import mia_attacks

    return mia_attacks.run_attacks(attack_input, slicing_spec, attack_types, privacy_report_metadata, **options)
