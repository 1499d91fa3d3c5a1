"""The reference-model attacks (offline and online LiRA, RMIA) on one snapshot, flattened into the same
:class:`~privacy_checks.attack.records.AttackRecord` s as TF Privacy's attacks.

Their math is :mod:`privacy_checks.attack.lira` and :mod:`privacy_checks.attack.rmia`; the
reference models' training sets and outputs come from :mod:`privacy_checks.train.references`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from privacy_checks.attack.codelab import one_blas_thread, quiet_attacks, roc_curve, scored_record
from privacy_checks.attack.records import AttackRecord, Evaluation
from privacy_checks.spec.profile import Profile
from privacy_checks.spec.vocabulary import ENTIRE_DATASET, class_slice
from privacy_checks.train.snapshot import Snapshot


def evaluate_references(
    snapshot: Snapshot,
    reference_logits: np.ndarray,
    trains_on: np.ndarray,
    population: np.ndarray,
    profile: Profile,
) -> Evaluation:
    """The profile's reference-model attacks on one snapshot, on every slice.

    ``reference_logits`` (K, N, C) are the reference models' logits at the
    snapshot's epoch, ``trains_on`` (K, N) their training sets, both over
    the global order (members, then non-members; see
    :mod:`privacy_checks.train.references`). Each attack uses the first
    ``profile.reference_models[attack]`` references. Offline LiRA and RMIA
    score every member and non-member, online LiRA the population (the
    examples some references trained on). Deterministic: no randomness but
    the bootstrap's and the epsilon bound's, seeded per record.
    """
    from privacy_checks.attack.lira import lira
    from privacy_checks.attack.reference_inputs import scaled_logit, true_label_probability
    from privacy_checks.attack.rmia import rmia
    from privacy_checks.train.references import out_per_pair

    members = len(snapshot.labels_members)
    logits = np.concatenate([snapshot.logits_members, snapshot.logits_non_members]).astype(np.float64)
    labels = np.concatenate([snapshot.labels_members, snapshot.labels_non_members])
    records: list[AttackRecord] = []
    curves: dict[tuple[str, str], Any] = {}
    member_scores: dict[str, np.ndarray] = {}
    with one_blas_thread(), quiet_attacks():
        for attack in profile.attacks:
            if attack not in profile.reference_models:
                continue
            k = profile.reference_models[attack]
            refs, ins = reference_logits[:k].astype(np.float64), trains_on[:k]
            if attack == "lira_online":
                scored = population
                scores = lira(
                    scaled_logit(logits[scored], labels[scored]),
                    scaled_logit(refs[:, scored], labels[scored]),
                    ins[:, scored],
                    online=True,
                )
            elif attack == "lira_offline":
                scored = np.arange(len(labels))
                outs = out_per_pair(ins, scaled_logit(refs, labels))
                scores = lira(scaled_logit(logits, labels), outs, np.zeros_like(outs, bool), online=False)
            else:  # rmia: each x against the non-members as population z
                scored = np.arange(len(labels))
                outs = out_per_pair(ins, true_label_probability(refs, labels))
                scores = rmia(
                    true_label_probability(logits, labels),
                    outs,
                    np.zeros_like(outs, bool),
                    np.arange(members, len(labels)),
                    offline=True,
                )
            is_member = scored < members
            # Every member's score in member order, NaN where unscored (online LiRA scores
            # only the population): the report's "which examples leak" reads it.
            member_scores[attack] = np.full(members, np.nan)
            member_scores[attack][scored[is_member]] = scores[is_member]
            by_slice = {ENTIRE_DATASET: np.ones(len(scored), bool)}
            if profile.by_class:
                by_slice.update({class_slice(c): labels[scored] == c for c in range(profile.num_classes)})
            for slice_, chosen in by_slice.items():
                scores_in, scores_out = scores[chosen & is_member], scores[chosen & ~is_member]
                if not len(scores_in) or not len(scores_out):
                    continue  # as TF Privacy skips a slice without both sides
                curve = roc_curve(scores_in, scores_out)
                curves[(attack, slice_)] = curve
                records.append(
                    scored_record(snapshot.model, snapshot.epoch, attack, slice_, scores_in, scores_out, curve, profile)
                )
    return Evaluation(snapshot, tuple(records), None, curves, member_scores)
