"""index.html: the reviewers' page, checked in a real browser where one is installed."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from privacy_checks.judge.compare import compare
from privacy_checks.judge.session import PrivacyRun
from privacy_checks.judge.tolerances import defaults
from privacy_checks.judge.verdicts import MetricTolerance
from privacy_checks.report import results
from privacy_checks.report.html import class_figure, rows
from privacy_checks.report.measured import Measured
from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import CaseKey, cases
from privacy_checks.spec.registry import SMOKE

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A real smoke run's report, with one check made to regress, one without a baseline,
    and one judged with calibrated tolerances (sigma 0.005)."""
    directory = tmp_path_factory.mktemp("report")
    run = PrivacyRun(Settings(SMOKE, directory / "baselines", directory))
    comparisons = {}
    for i, case in enumerate(cases(SMOKE)):
        record = run.record(case)
        obtained = {m: record.metric(m) for m in SMOKE.metrics}
        expected = None if i == 1 else {m: v - (0.2 if i == 0 else 0.0) for m, v in obtained.items()}
        tolerance = (
            {m: MetricTolerance(0.02, "calibrated", 0.005) for m in SMOKE.metrics}
            if i == 2
            else defaults(SMOKE, case.slice)
        )
        comparisons[case.key] = compare(case.key, obtained, expected, tolerance, record.intervals)
    measured = Measured(SMOKE, run.evaluations(), comparisons, run.versions, run.data_source)
    paths = results.write_report(directory, measured)
    return directory / "index.html", comparisons, paths


def test_failures_come_first():
    tolerance = defaults(SMOKE, "entire_dataset")
    keys = [CaseKey("m", epoch, "threshold", "entire_dataset") for epoch in (1, 2, 3)]
    comparisons = {
        keys[0]: compare(keys[0], {"auc": 0.5, "attacker_advantage": 0.1}, {"auc": 0.5, "attacker_advantage": 0.1}, tolerance),
        keys[1]: compare(keys[1], {"auc": 0.9, "attacker_advantage": 0.1}, {"auc": 0.5, "attacker_advantage": 0.1}, tolerance),
        keys[2]: compare(keys[2], {"auc": 0.5, "attacker_advantage": 0.1}, None, tolerance),
    }
    verdicts = [row.verdict for row in rows(comparisons)]
    assert verdicts == ["regressed", "missing", "missing", "passed", "passed", "passed"]


def test_page_is_self_contained_and_lists_every_check(written):
    page, comparisons, paths = written
    assert page in paths
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must fetch nothing"
    # TF Privacy's two plots, every attack by epoch, ROC curves and accuracy (smoke has no class slices to plot)
    assert html.count('<img src="data:image/png;base64,') == 5
    assert html.count("<tr id=") == len(SMOKE.metrics) * len(comparisons)
    first_row = re.search(r'<tr id="([^"]+)" class="(\w+)"', html)
    assert first_row.group(2) == "regressed"
    assert first_row.group(1) == "2_layers-epoch1-threshold-entire_dataset-attacker_advantage"
    assert "&lt;" not in SMOKE.description and "<script>alert" not in html


@pytest.mark.skipif(BROWSER is None, reason="no Chromium here (apt-get install chromium); CI installs it")
def test_page_renders_in_headless_chromium(written, tmp_path):
    page, comparisons, _ = written
    flags = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", "--window-size=1280,2000",
    ]
    dom = subprocess.run(
        [*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert 'data-ready="yes"' in dom, "the page's script did not run to its end"
    assert 'data-images-decoded="5"' in dom, "every embedded figure decodes"
    assert len(re.findall(r"<tr id=", dom)) == len(SMOKE.metrics) * len(comparisons)
    assert "1 regressed" in dom and "1 missing" in dom

    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert np.std(pixels[..., :3]) > 0.05, "the screenshot is not a blank page"


def test_class_figure_shows_each_class_slice():
    from test_attacks import PROFILE, leaky_snapshot
    from privacy_checks.attack.codelab import evaluate

    uri = class_figure([evaluate(leaky_snapshot(), PROFILE)])
    assert uri.startswith("data:image/png;base64,")
    assert class_figure([]) is None


def test_results_and_page_show_what_a_pass_rules_out(written):
    """results.json carries each check's detectable rise next to its tolerance, and how it was derived."""
    page, comparisons, paths = written
    document = json.loads((page.parent / "results.json").read_text())
    assert document["detectable_rise_power"] == 0.8
    results = document["results"]
    assert len(results) == len(comparisons)
    for i, entry in enumerate(results):
        assert set(entry["detectable_rise"]) == set(entry["tolerance"]) == set(SMOKE.metrics)
        for metric, rise in entry["detectable_rise"].items():
            if i == 2:  # calibrated: tolerance + z_0.8 sqrt(2) sigma
                assert entry["detectable_rise_basis"][metric] == "calibrated_noise"
                assert rise == pytest.approx(0.02 + 0.8416 * math.sqrt(2) * 0.005, abs=1e-4)
            else:  # the profile's tolerance: only a lower bound
                assert entry["detectable_rise_basis"][metric] == "lower_bound"
                assert rise == entry["tolerance"][metric]
    html = page.read_text()
    assert "<th>detectable rise</th>" in html
    calibrated = re.search(r'<tr id="2_layers-epoch3-threshold-entire_dataset-auc".*?</tr>', html, re.S).group(0)
    assert "+0.0260" in calibrated and "or more" not in calibrated
    profile = re.search(r'<tr id="2_layers-epoch1-threshold-entire_dataset-auc".*?</tr>', html, re.S).group(0)
    assert "or more" in profile
