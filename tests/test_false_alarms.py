"""No false alarms, measured: the default profile with twenty other seeds against its committed baselines.

A seed changes initialisation, batch order and the attacks' randomness, and
nothing a privacy gate should judge. Each such run is a harmless change, so
every failure is a false alarm. The gate's design: no DP guarantee alarm in
any run (their family-wise error is 0.1 % per run; the accountant's epsilon
is exact and must not move at all), and baseline checks failing in at most
one of the twenty runs (their budget is about 5 % of runs). This trains 60
models (the reference models follow the member split: trained once), about
10 minutes on 2 cores: marked ``study``, run by ``.ci/run``, not by the
README's test command.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_checks.judge import power
from privacy_checks.run.settings import Settings
from privacy_checks.spec.registry import DIGITS

SEEDS = tuple(range(2001, 2021))
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.study


@pytest.fixture(scope="module")
def outcomes(request, tmp_path_factory) -> list[power.SeedOutcome]:
    # pytest's cache as the plugin uses it; none with -p no:cacheprovider (config.cache is then unset)
    pytest_cache = getattr(request.config, "cache", None)
    cache = pytest_cache.mkdir("privacy_checks") if pytest_cache is not None else None
    settings = Settings(
        profile=DIGITS,
        baselines_dir=ROOT / "baselines",
        report_dir=tmp_path_factory.mktemp("report"),
        cache_dir=cache,
    )
    found = power.false_alarm_study(settings, SEEDS)
    for outcome in found:  # the table of the study, in the captured output of a failure
        print(f"seed {outcome.seed}: {len(outcome.regressed)} of {outcome.checks} baseline checks "
              f"failed {list(outcome.regressed)}; {len(outcome.broken)} of {outcome.guarantees} "
              f"DP checks failed {list(outcome.broken)}")
    return found


def test_every_seed_ran_every_check(outcomes):
    assert [o.seed for o in outcomes] == list(SEEDS)
    # 3 models x 6 epochs x 3 attacks x 11 slices; 6 epochs x 3 attacks x 2 guarantees + 6 accountant
    # checks + the audit of the DP step (conformance and the canary bound, one check)
    assert all(o.checks == 594 and o.guarantees == 43 for o in outcomes)


def test_no_dp_alarm_with_any_seed(outcomes):
    assert [(o.seed, o.broken) for o in outcomes if o.broken] == []


def test_baseline_checks_fail_in_at_most_one_of_twenty_harmless_runs(outcomes):
    failing = [(o.seed, o.regressed) for o in outcomes if o.regressed]
    assert len(failing) <= 1, failing
