"""A DP model's guarantee checks: the epsilon it proves against the epsilon it claims, and its
AUC against its non-private twin's.

Both kinds share one family-wise error budget per run
(:data:`privacy_checks.attack.accounting.FAMILY_ALPHA`, Bonferroni over the
profile's guarantee checks); neither needs a baseline.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from privacy_checks.attack import accounting, dp_audit, white_box
from privacy_checks.attack.metrics import interval_sd
from privacy_checks.attack.records import AttackRecord
from privacy_checks.judge import tolerances
from privacy_checks.judge.book import BaselineBook
from privacy_checks.judge.verdicts import GuaranteeCheck, WhiteBoxBound
from privacy_checks.run.runner import Runner
from privacy_checks.run.settings import CheckFailed, Settings
from privacy_checks.run import dp_step
from privacy_checks.spec.cases import ACCOUNTANT, CONFORMANCE, EPSILON, Case, CaseKey
from privacy_checks.spec.vocabulary import ENTIRE_DATASET


def accountant_epsilon(runner: Runner, model: str, epoch: int) -> float:
    """The DP model's epsilon after ``epoch`` epochs: computed from the recipe and the member
    count (the data set's; no training needed)."""
    profile = runner.profile
    spec = profile.model(model)
    if spec.dp is None:
        raise ValueError(f"{model} is not trained with DP-SGD")
    return accounting.epsilon(spec.dp, runner.member_count(), profile.batch_size, epoch)


def accountant_epsilons(runner: Runner, model: str) -> dict[int, float]:
    """The DP model's epsilon at every report epoch: what its baseline records."""
    return {epoch: accountant_epsilon(runner, model, epoch) for epoch in runner.profile.report_epochs}


def check_accountant(case: Case, settings: Settings, runner: Runner, book: BaselineBook) -> GuaranteeCheck:
    """The accountant's epsilon at one report epoch against its baseline's and the model's budget.

    Exact, not statistical: a larger epsilon is a weaker guarantee (less noise, a larger
    sampling rate, more steps), which fails like a leak and is accepted by re-recording;
    above ``dp.max_epsilon`` it fails whatever the baseline says. The rise allowed,
    :data:`accounting.EPSILON_RISE`, covers dp-accounting releases, not a weaker training.
    """
    dp = settings.profile.model(case.model).dp
    epsilon = accountant_epsilon(runner, case.model, case.epoch)
    recorded = None if settings.update_baselines else book.expected_epsilon(
        case.model, case.epoch, runner.data_source
    )
    limits, details = [], []
    if recorded is not None:
        limits.append(recorded * (1 + accounting.EPSILON_RISE))
        details.append(
            f"its baseline's epsilon {recorded:.4f} + {accounting.EPSILON_RISE:.0%} "
            "(room for accountant releases)"
        )
    if dp.max_epsilon is not None:
        limits.append(dp.max_epsilon)
        details.append(f"the budget dp.max_epsilon = {dp.max_epsilon:g}")
    if not details:
        details.append("recorded as the new baseline" if settings.update_baselines else "no baseline yet")
    return GuaranteeCheck(
        case.key, ACCOUNTANT, epsilon, min(limits, default=epsilon), " and ".join(details),
        family=0, missing=recorded is None and not settings.update_baselines, budget=dp.max_epsilon,
    )


def check(case: Case, settings: Settings, runner: Runner, book: BaselineBook) -> GuaranteeCheck:
    """Measures one of a DP model's guarantees; raises :class:`CheckFailed` without a verdict."""
    if case.check == ACCOUNTANT:
        return check_accountant(case, settings, runner, book)
    if case.check == CONFORMANCE:
        return check_conformance(case, settings, runner)
    profile = settings.profile
    spec = profile.model(case.model)
    record = runner.record(case.key)
    if record is None:
        raise CheckFailed(f"TF Privacy ran no {case.attack} attack on {case.model}'s entire dataset")
    alpha = accounting.guarantee_alpha(profile)
    at_chance = False
    if case.check == EPSILON:
        if record.epsilon_lower_bound is None:
            raise CheckFailed(f"the {case.attack} attack gave no membership scores to bound epsilon with")
        dp = spec.dp
        steps = accounting.steps(runner.members(case.model, case.epoch), profile.batch_size, case.epoch)
        detail = (
            f"the accountant's epsilon (RDP, delta={dp.delta:g}, noise multiplier "
            f"{dp.noise_multiplier:g}, clip {dp.l2_norm_clip:g}, {steps} steps)"
        )
        obtained, limit = record.epsilon_lower_bound, accountant_epsilon(runner, case.model, case.epoch)
    else:
        other = runner.record(CaseKey(spec.compare_to, case.epoch, case.attack, ENTIRE_DATASET))
        if other is None:
            raise CheckFailed(f"TF Privacy ran no {case.attack} attack on {spec.compare_to}")
        tolerance, source = difference_tolerance(case, record, other, alpha, settings, book)
        at_chance = all(_contains(r.intervals.get("auc"), 0.5) for r in (record, other))
        detail = f"{spec.compare_to}'s AUC {other.auc:.4f} + tolerance {tolerance:.4f} ({source})"
        if at_chance:
            detail += "; the attack is at chance on both models (both AUCs' 95% intervals contain 0.5)"
        obtained, limit = record.auc, other.auc + tolerance
    return GuaranteeCheck(
        case.key, case.check, obtained, limit, detail,
        alpha=alpha, family=accounting.guarantee_checks(profile), at_chance=at_chance,
    )


def check_conformance(case: Case, settings: Settings, runner: Runner) -> GuaranteeCheck:
    """The DP model's optimizer step against the claim (:mod:`privacy_checks.run.dp_step`).

    ``obtained`` is the number of departures found (clip, noise scale, fresh noise, the audited
    step against ``train_step``, a white-box canary bound above the accountant's epsilon),
    ``limit`` 0; ``detail`` gives measured against claimed values whether it passes or not, so
    that results.json and the report show the measurement, and ``white_box`` the canary bound.
    The conformance tests and the canary bound spend half of this check's share of the run's
    guarantee budget each, so that the check still errs with at most its share.
    """
    profile = settings.profile
    alpha = accounting.guarantee_alpha(profile)
    try:
        audited = dp_step.audit(runner, case.model, alpha)
    except Exception as error:
        raise CheckFailed(
            f"the DP step of {case.model} could not be audited ({type(error).__name__}: {error}); fix the "
            f"model's dp setting or builder so that the suite can build it, or deselect it with "
            f"-k 'not dp_conformance'."
        ) from error
    found, white = audited.conformance, _white_box(audited.canaries)
    noise, clip, fresh, sampling = found.noise, found.clipping, found.freshness, found.sampling
    measured = (
        f"noise sd {noise.measured_std:.4g} (interval {noise.interval[0]:.4g} to {noise.interval[1]:.4g}, "
        f"{noise.steps} steps x {noise.coordinates} coordinates; a sd x {noise.detectable_shortfall:.3f} "
        f"is caught with power {dp_audit.POWER:g}) against claimed {noise.claimed_std:.4g}; largest contribution "
        f"{max(clip.largest_contribution, clip.adversarial_contribution):.6g} (adversarial raw norm "
        f"{clip.adversarial_raw_norm:.4g}) against clip {clip.claimed_clip:g}; largest noise correlation "
        f"between steps {fresh.largest_correlation:.3f}; epsilon {sampling.poisson:.3f} under Poisson "
        f"sampling (checked) and {sampling.shuffled:.3f} under shuffled batches"
    )  # no seconds: results.json holds no timings, so that a run's file is byte-identical
    failures = found.failures()
    if white.refutes_claim:
        failures.append(
            f"white-box canaries prove epsilon >= {white.epsilon:.4g} ({white.method}, {white.canaries} canaries, "
            f"{white.confidence} confidence) above the accountant's {white.accountant_epsilon:.4g}"
        )
    measured += (
        f"; white-box canary bound epsilon >= {white.epsilon:.3f} ({white.method}, {white.canaries} canaries, "
        f"{white.steps} steps, {white.confidence} confidence) against the accountant's {white.accountant_epsilon:.3f}"
    )
    detail = ("departures: " + "; ".join(failures) + ". Measured: " if failures else "no departure (0 allowed). Measured: ") + measured
    return GuaranteeCheck(
        case.key, CONFORMANCE, float(len(failures)), 0.0, detail,
        alpha=alpha, family=accounting.guarantee_checks(profile), white_box=white,
    )


def _white_box(audit: white_box.CanaryAudit) -> WhiteBoxBound:
    """The canary audit's bound as the verdict carries it (no seconds: results.json holds no timings)."""
    bound = audit.bound
    return WhiteBoxBound(
        bound.epsilon_gdp, "GDP", bound.canaries, bound.steps, bound.alpha, audit.accountant_epsilon,
        bound.one_run_epsilon,
    )


def difference_tolerance(
    case: Case,
    record: AttackRecord,
    other: AttackRecord,
    alpha: float,
    settings: Settings,
    book: BaselineBook,
) -> tuple[float, str]:
    """How far a DP model's AUC may lie above its non-private twin's, and why.

    The two AUCs come from two trainings, so their difference varies with
    the seed of each: z * sqrt(sd_dp^2 + sd_other^2), with each sd the
    calibrated seed spread of that model's baseline (pooled like the
    baseline checks') and z the quantile of the guarantee budget: Student's t
    with the smaller of the two spreads' degrees of freedom.
    Without calibrated baselines of both, the bootstrap intervals give the
    evaluation-set part of the noise and the profile's AUC tolerance stands
    in for the seed part (the larger wins). An explicit AUC tolerance wins.
    """
    if "auc" in settings.tolerance:
        return settings.tolerance["auc"], "explicit"
    z = NormalDist().inv_cdf(1 - alpha)
    spreads, dfs = [], []
    for model in (case.model, other.model):
        baseline = book.usable(model)
        spread = book.pooled_spreads(model, baseline).get((case.attack, ENTIRE_DATASET, "auc"))
        if spread is not None:
            spreads.append(spread.sd)
            dfs.append(spread.df(len(baseline.calibration_seeds)))
    if len(spreads) == 2:
        sigma, q = math.hypot(*spreads), tolerances.quantile(z, min(dfs))
        return max(tolerances.FLOOR, q * sigma), f"calibrated: {q:.2f} x seed sd {sigma:.4f} of the difference"
    sigma = math.hypot(*(interval_sd(r.intervals["auc"]) for r in (record, other) if "auc" in r.intervals))
    default = settings.profile.tolerance.auc
    if z * sigma > default:
        return z * sigma, f"{z:.2f} x bootstrap sd {sigma:.4f} of the difference"
    return default, "the profile's AUC tolerance; calibrate for a measured one"


def _contains(interval: tuple[float, float] | None, value: float) -> bool:
    return interval is not None and interval[0] <= value <= interval[1]
