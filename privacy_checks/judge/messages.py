"""Everything the suite tells a user in words: failures, guarantees, and the command to run next.

One place for the texts, so that the command that accepts new numbers is
spelled the same in every message (pytest-regressions ends each failure with
it too), and so that wording can change without touching the logic that
decides. Plain functions of plain values; nothing here measures or decides.
"""

from __future__ import annotations

from typing import Sequence

from privacy_checks.judge.verdicts import Comparison, GuaranteeCheck, Status, format_table
from privacy_checks.spec.cases import CONFORMANCE, EPSILON, CaseKey

#: The flag that records measured numbers as the new baselines.
UPDATE_FLAG = "--privacy-update-baselines"


def rerecord(profile: str | None = None) -> str:
    """``pytest -m privacy [--privacy-profile NAME] --privacy-update-baselines``."""
    chosen = f" --privacy-profile {profile}" if profile else ""
    return f"pytest -m privacy{chosen} {UPDATE_FLAG}"


def recalibrate(profile: str | None = None, seeds: int = 5) -> str:
    """``pytest -m privacy [--privacy-profile NAME] --privacy-calibrate=5``: re-measures the seed spread."""
    chosen = f" --privacy-profile {profile}" if profile else ""
    return f"pytest -m privacy{chosen} --privacy-calibrate={seeds}"


def _where(key: CaseKey) -> str:
    return f"{key.model} at epoch {key.epoch}, {key.attack} attack, slice {key.slice}"


def regression(comparison: Comparison, path: str, profile: str) -> str:
    """The table of one failing baseline check, followed by the command that accepts it."""
    where, table = _where(comparison.key), format_table(comparison)
    if comparison.status is Status.MISSING:
        return f"no baseline for {where} in {path}.\n{table}\nRecord baselines with:\n  {rerecord(profile)}"
    return (
        f"privacy regression: {where} leaks more than its baseline ({path}).\n{table}\n"
        f"If this leakage is expected, review it and accept it as the new baseline with:\n"
        f"  {rerecord(profile)}"
    )


def guarantee_failed(check: GuaranteeCheck) -> str:
    """Why a DP model's guarantee check failed, at what confidence, and where to look."""
    where = _where(check.key)
    confidence = (
        f"confidence {1 - check.alpha:.6g} for this check; the {check.family} guarantee checks "
        f"of this run together err with probability at most {check.alpha * check.family:.3g}"
    )
    if check.check == CONFORMANCE:
        return (
            f"DP step does not conform: {check.model}'s optimizer is not the mechanism its accountant "
            f"is told ({confidence}): {check.detail}.\n"
            "The accountant's epsilon does not hold for this training. Fix the DP optimizer, or set the "
            "profile's dp (noise_multiplier, l2_norm_clip) to what the optimizer does. An update of the "
            "baselines does not accept this."
        )
    if check.check == EPSILON:
        return (
            f"DP guarantee broken: {where}: the measured epsilon lower bound "
            f"{check.obtained:.3f} exceeds {check.detail} = {check.limit:.3f}.\n"
            f"The bound ({confidence}) uses a threshold chosen on part of the attack's scores "
            "and Clopper-Pearson bounds on the rest (median of 9 such splits). No training with that guarantee "
            "lets an attacker do this well. Check that the model trains with TF Privacy's DP "
            "optimizer with the profile's noise multiplier and clip, on a per-example loss "
            "(reduction NONE), and that members, batch size and epochs are what the accountant "
            "was told. An update of the baselines does not accept this."
        )
    return (
        f"DP model leaks more than the non-private one: {where}: AUC {check.obtained:.4f} "
        f"exceeds {check.detail} = {check.limit:.4f} ({confidence}).\n"
        "DP-SGD that works lowers membership inference; check the DP training, or set "
        "--privacy-tolerance=auc=X if this epoch is known to be noise."
    )


def accountant_failed(check: GuaranteeCheck, path: str, profile: str) -> str:
    """A DP model whose accountant's epsilon rose above its baseline's or its budget, or has no baseline."""
    where = f"{check.model} at epoch {check.epoch}"
    if check.over_budget:
        return (
            f"privacy budget exceeded: {where}: the accountant's epsilon {check.obtained:.4f} is above "
            f"the budget dp.max_epsilon = {check.budget:g}. Add noise (dp.noise_multiplier), train "
            "fewer epochs or on larger batches relative to the members, or raise the budget in the "
            "profile after review; an update of the baselines does not accept this."
        )
    if check.missing:
        return (
            f"no baseline for the accountant's epsilon of {where} in {path}. Record it with:\n"
            f"  {rerecord(profile)}"
        )
    return (
        f"weaker DP guarantee: {where}: the accountant's epsilon {check.obtained:.4f} is above "
        f"{check.detail} = {check.limit:.4f} ({path}). A larger epsilon promises less privacy: less "
        "noise, a larger clip relative to the noise, more steps or a larger sampling rate (batch "
        "size / members). If this is intended, review it and accept it as the new baseline with:\n"
        f"  {rerecord(profile)}"
    )


def told_before(headline: str, first_check: str) -> str:
    """A failure already told in full by an earlier check, as one line that points to it."""
    if len(headline) > 200:
        headline = headline[:197].rstrip() + "..."
    return f"{headline}: told in full by [{first_check}] and in the privacy summary"


def unusable_baseline(path: str, problem: str) -> str:
    """A baseline file that cannot be read or parsed."""
    return f"{path}: {problem}. Fix the file, or delete it and run {rerecord()} to record it again."


def copied_baseline(path: str, found: tuple[str, str], wanted: tuple[str, str]) -> str:
    """A baseline file of another (profile, model) than the one it is read for."""
    return (
        f"{path} holds the baseline of profile {found[0]!r}, model {found[1]!r}, not of profile "
        f"{wanted[0]!r}, model {wanted[1]!r}: it was copied or renamed. Move it back, or re-record "
        f"with {rerecord(wanted[0])}."
    )


def other_data(path: str, differences: Sequence[str], profile: str) -> str:
    """A baseline recorded on other data: its numbers measure something else."""
    return (
        f"{path} was recorded on other data ({'; '.join(differences)}), so its numbers "
        f"measure something else. Review the change and re-record with {rerecord(profile)}."
    )


def other_setup(path: str, changes: Sequence[str]) -> str:
    """A baseline recorded from another setup, compared anyway (the summary's note)."""
    return (
        f"{path} was recorded from another setup ({'; '.join(changes)}): this run was compared "
        f"with it, which is how a change is judged; once reviewed, re-record with {UPDATE_FLAG}"
    )


def xdist_refused(workers: object) -> str:
    """Why ``pytest -n N`` is refused with privacy checks selected, and what to run instead."""
    return (
        f"pytest -n {workers}: privacy checks cannot be split over xdist workers: each worker "
        "would train every model it has checks of again and write a report of its own share. "
        "Run them without -n (their attacks already run in worker processes beside training, "
        "--privacy-workers), or spread trainings and attacks over cores or machines with "
        "--privacy-executor=ray (--privacy-ray-address for a cluster). Other tests can use -n "
        "with -m 'not privacy'."
    )
