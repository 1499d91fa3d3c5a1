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
from privacy_checks.report.figures import class_figure
from privacy_checks.report.measured import Measured
from privacy_checks.report.table import check_rows
from privacy_checks.run.settings import Settings
from privacy_checks.spec.cases import CaseKey, cases
from privacy_checks.spec.registry import SMOKE

BROWSER = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Measured:
    """A real smoke run's verdicts, with one check made to regress, one without a baseline,
    and one judged with calibrated tolerances (sigma 0.005)."""
    directory = tmp_path_factory.mktemp("smoke")
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
    return Measured(SMOKE, run.evaluations(), comparisons, run.versions, run.data_source)


@pytest.fixture(scope="module")
def written(smoke, tmp_path_factory):
    """The smoke run's report: (index.html, the comparisons, every path written)."""
    directory = tmp_path_factory.mktemp("report")
    paths = results.write_report(directory, smoke)
    return directory / "index.html", smoke.comparisons, paths


def test_failures_come_first():
    tolerance = defaults(SMOKE, "entire_dataset")
    keys = [CaseKey("m", epoch, "threshold", "entire_dataset") for epoch in (1, 2, 3)]
    comparisons = {
        keys[0]: compare(keys[0], {"auc": 0.5, "attacker_advantage": 0.1}, {"auc": 0.5, "attacker_advantage": 0.1}, tolerance),
        keys[1]: compare(keys[1], {"auc": 0.9, "attacker_advantage": 0.1}, {"auc": 0.5, "attacker_advantage": 0.1}, tolerance),
        keys[2]: compare(keys[2], {"auc": 0.5, "attacker_advantage": 0.1}, None, tolerance),
    }
    verdicts = [row.verdict for row in check_rows(comparisons)]
    assert verdicts == ["regressed", "missing", "passed"]


#: TF Privacy's two plots, baseline against now (one per model), the ROC curves, every attack by
#: epoch and accuracy (smoke has no class slices to plot).
FIGURES = 7


def test_page_is_self_contained_and_lists_every_check(written):
    page, comparisons, paths = written
    assert page in paths
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must fetch nothing"
    assert html.count('<img src="data:image/png;base64,') == FIGURES
    checks = html[html.index('<table id="checks">'):]
    assert checks.count("<tr id=") == len(comparisons), "one row per check"
    first_row = re.search(r'<tr id="([^"]+)" class="(\w+)"', checks)
    assert first_row.group(2) == "regressed"
    assert first_row.group(1) == "2_layers-epoch1-threshold-entire_dataset"
    # Each metric cell keeps the anchor of the old per-metric rows.
    assert 'id="2_layers-epoch1-threshold-entire_dataset-attacker_advantage"' in checks
    assert "&lt;" not in SMOKE.description and "<script>alert" not in html


needs_chromium = pytest.mark.skipif(BROWSER is None, reason="no Chromium here (apt-get install chromium); CI installs it")


def chromium(tmp_path, url: str, *flags: str, window: str = "1280,2000") -> str:
    """The DOM of ``url`` after its scripts ran (headless Chromium, virtual time), or with ``flags``."""
    command = [
        BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000", f"--window-size={window}", *flags,
    ]
    if not any(flag.startswith("--screenshot") for flag in flags):
        command.append("--dump-dom")
    return subprocess.run([*command, url], capture_output=True, text=True, timeout=120, check=True).stdout


def visible_rows(dom: str) -> list[str]:
    """The checks table's rows a reader sees, in page order (filtered rows carry ``hidden``)."""
    table = dom[dom.index('<table id="checks">'):]
    return [m.group(1) for m in re.finditer(r'<tr id="([^"]+)" class="\w+"( hidden="")?>', table) if not m.group(2)]


@needs_chromium
def test_page_renders_in_headless_chromium(written, tmp_path):
    page, comparisons, _ = written
    dom = chromium(tmp_path, page.as_uri())
    assert 'data-ready="yes"' in dom, "the page's script did not run to its end"
    assert f'data-images-decoded="{FIGURES}"' in dom, "every embedded figure decodes"
    assert len(visible_rows(dom)) == len(comparisons)
    assert "1 regressed" in dom and "1 missing" in dom
    assert f"{len(comparisons)} of {len(comparisons)} checks shown" in dom

    shot = tmp_path / "page.png"
    chromium(tmp_path, page.as_uri(), f"--screenshot={shot}")
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert np.std(pixels[..., :3]) > 0.05, "the screenshot is not a blank page"


@needs_chromium
def test_a_reviewer_sees_the_verdict_the_figure_and_filters_to_the_failure(written, tmp_path):
    """As a reviewer reads it: the verdict on top, the baseline-against-now figure first among the
    figures, then a link that shows only the regressed check."""
    page, comparisons, _ = written
    dom = chromium(tmp_path, page.as_uri() + "#verdict=regressed")
    body = dom[dom.index("<body"):]
    assert re.search(r'<p id="verdict" class="failed">FAILED: 1 check regressed, 1 check without a baseline', body)
    figure = body.index('<section id="baseline-vs-now">')
    assert body.index('<img src="data:image/png', figure) == body.index("<img "), "the first figure on the page"
    assert body.index('id="failures"') < figure < body.index('<table id="checks">')
    assert body[figure:].index('alt="Baseline against now: 2_layers') < body[figure:].index("</section>")
    assert visible_rows(dom) == ["2_layers-epoch1-threshold-entire_dataset"]
    assert f"1 of {len(comparisons)} checks shown" in dom and 'data-shown-rows="1"' in dom
    # Failures, as the filter's "failed" choice: regressed and new checks.
    failed = visible_rows(chromium(tmp_path, page.as_uri() + "#verdict=failed"))
    assert failed == ["2_layers-epoch1-threshold-entire_dataset", "2_layers-epoch1-logistic_regression-entire_dataset"]


@needs_chromium
def test_select_boxes_filter_and_a_header_click_sorts(written, tmp_path):
    """Driven as a reader drives it: a select box changed, a column header clicked twice."""
    page, comparisons, _ = written
    script = """<script>
    var form = document.getElementById("filters");
    form.elements.model.value = "3_layers";
    form.elements.model.dispatchEvent(new Event("change"));
    var auc = Array.from(document.querySelectorAll("#checks th")).find(function (th) { return th.textContent === "AUC"; });
    auc.click(); auc.click();
    document.body.dataset.hash = location.hash;
    </script></body>"""
    driven = tmp_path / "driven.html"
    driven.write_text(page.read_text().replace("</body>", script))
    dom = chromium(tmp_path, driven.as_uri())
    shown = visible_rows(dom)
    expected = sorted((c for c in comparisons.values() if c.key.model == "3_layers"),
                      key=lambda c: -c.checks[0].obtained)
    assert shown == [f"{c.key.model}-epoch{c.key.epoch}-{c.key.attack}-{c.key.slice}" for c in expected]
    assert 'data-hash="#model=3_layers"' in dom, "a filter is a link to share"
    assert 'data-order="desc"' in dom


def test_without_javascript_every_row_shows(written):
    """The filters are the script's: the page as served hides no row, and the controls that
    could not work without it are hidden until the script shows them."""
    page, comparisons, _ = written
    html = page.read_text()
    assert len(visible_rows(html)) == len(comparisons)
    assert '<form id="filters" hidden' in html and "form.hidden = false" in html
    assert "display: none" not in html.replace("tr[hidden] { display: none; }", "")


@needs_chromium
def test_a_table_of_2400_checks_filters_and_sorts_fast(tmp_path):
    from report_fixtures import comparison

    from privacy_checks.report.html import render

    checks = {}
    for model in ("a", "b", "c", "d"):
        for epoch in range(1, 7):
            for attack in ("threshold", "logistic_regression", "rmia", "lira_offline", "lira_online"):
                for slice_ in ["entire_dataset"] + [f"class_{c}" for c in range(19)]:
                    rise = {"auc": 0.2} if (model, epoch, attack, slice_) == ("c", 4, "rmia", "class_7") else None
                    made = comparison(model, epoch, attack, rise, slice_=slice_)
                    checks[made.key] = made
    assert len(checks) == 2400
    html = render(Measured(SMOKE, [], checks, {}, "digits"), {})
    assert len(html) < 3_000_000
    timing = """<script>
    var form = document.getElementById("filters"), t0 = performance.now();
    form.elements.verdict.value = "regressed"; form.elements.verdict.dispatchEvent(new Event("change"));
    var t1 = performance.now();
    document.querySelectorAll("#checks th")[5].click();
    document.body.dataset.filterMs = t1 - t0; document.body.dataset.sortMs = performance.now() - t1;
    </script></body>"""
    page = tmp_path / "big.html"
    page.write_text(html.replace("</body>", timing))
    dom = chromium(tmp_path, page.as_uri())
    assert visible_rows(dom) == ["c-epoch4-rmia-class_7"]
    filter_ms = float(re.search(r'data-filter-ms="([0-9.]+)"', dom).group(1))
    sort_ms = float(re.search(r'data-sort-ms="([0-9.]+)"', dom).group(1))
    assert filter_ms < 500 and sort_ms < 1500, (filter_ms, sort_ms)  # about 10 and 50 ms here


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
    calibrated = re.search(r'<td [^>]*id="2_layers-epoch3-threshold-entire_dataset-auc"[^>]*>', html).group(0)
    assert "detectable rise +0.0260" in calibrated and "or more" not in calibrated
    profile = re.search(r'<td [^>]*id="2_layers-epoch1-threshold-entire_dataset-auc"[^>]*>', html).group(0)
    assert "or more" in profile


def test_members_that_are_no_images_are_listed_by_index(smoke):
    """Images asked for, but the members are rows of a table (or were not at hand): indices, and why."""
    import dataclasses

    from privacy_checks.report.html import render
    from privacy_checks.report.measured import Members

    for members in (Members(np.zeros((100, 13), np.float32)), None):
        html = render(dataclasses.replace(smoke, examples="images", members=members), {})
        assert html.count('<div class="leak" title="rank') == 32 and 'alt="member ' not in html
        assert "here no images could be drawn" in html
