"""The white-box canary bound as the report shows it: one results.json entry and one row of the
HTML report's DP section per DP model whose conformance check measured it, none for any other
check or model; the summary's line beside the black-box bound, red where it refutes the claim.

Hand-made verdicts (no training, no audit): ``tests/plugin/test_plugin_dp_conformance.py``
measures the bound through pytest."""

from __future__ import annotations

import dataclasses

import numpy as np
from report_fixtures import broken_guarantee, every_check, measured

from privacy_checks.attack.records import AttackRecord
from privacy_checks.judge.verdicts import GuaranteeCheck, WhiteBoxBound
from privacy_checks.report import html, results
from privacy_checks.report.summary import white_box_line
from privacy_checks.spec.cases import CONFORMANCE, CONFORMANCE_KEY, CaseKey

#: digits' dp_2_layers at epoch 200, as measured on the current lane at the run's alpha / 2.
BOUND = WhiteBoxBound(4.5415, "GDP", 2000, 800, 0.001 / 37 / 2, 7.2274, 0.0)


def conformance(bound: WhiteBoxBound | None = BOUND) -> GuaranteeCheck:
    key = CaseKey("dp_2_layers", 3, CONFORMANCE_KEY, "entire_dataset")
    return GuaranteeCheck(key, CONFORMANCE, 0.0, 0.0, "no departure (0 allowed)", alpha=0.001 / 37,
                          family=37, white_box=bound)


def with_guarantees(*checks: GuaranteeCheck):
    return measured(every_check(), guarantees={(c.key, c.check): c for c in checks})


def test_results_json_holds_the_bound_per_dp_model_and_nothing_for_other_checks():
    document = results.results_document(with_guarantees(conformance(), broken_guarantee()))
    assert document["white_box_bounds"] == {
        "dp_2_layers": {
            "epoch": 3, "epsilon_lower_bound": 4.5415, "method": "GDP", "canaries": 2000, "steps": 800,
            "alpha": 0.001 / 37 / 2, "accountant_epsilon": 7.2274, "one_run_epsilon_lower_bound": 0.0,
            "refutes_claim": False,
        }
    }
    # the non-DP models (2_layers, 3_layers) and the black-box bound's check carry none
    assert results.results_document(with_guarantees(broken_guarantee()))["white_box_bounds"] == {}


def test_the_reports_dp_section_shows_the_bound_beside_the_claim():
    page = html.render(with_guarantees(conformance(), broken_guarantee()), {})
    assert page.count('id="white-box-bounds-table"') == 1
    row = page.split('id="white-box-bounds-table"')[1].split("</table>")[0]
    assert row.count("<tr class=") == 1 and '<tr class="passed">' in row
    for cell in ("<td>dp_2_layers</td>", ">4.54</td>", "<td>GDP</td>", ">2000</td>", ">99.9986 %</td>",
                 ">7.23</td>", ">not measured</td>"):
        assert cell in row, cell
    without = html.render(with_guarantees(broken_guarantee()), {})
    assert "white-box-bounds" not in without and "DP guarantees" in without
    above = dataclasses.replace(BOUND, epsilon=9.0)
    page = html.render(with_guarantees(conformance(above)), {})
    assert '<tr class="regressed">' in page.split('id="white-box-bounds-table"')[1].split("</table>")[0]


def _record(epoch: int, bound: float | None) -> AttackRecord:
    return AttackRecord("dp_2_layers", epoch, "threshold", "entire_dataset", 0.55, 0.1, 0.5, 200, 200, bound)


def test_the_summary_line_puts_the_canary_bound_beside_the_claim_and_the_black_box_bound():
    line = white_box_line("dp_2_layers", conformance(), [_record(3, 0.55), _record(3, 0.31), _record(1, 0.9)])
    assert line.text == (
        "  dp_2_layers: white-box canary bound eps >= 4.54 (GDP, 2,000 canaries, 99.9986 % confidence) "
        "against the accountant's 7.23 at epoch 3; black-box bound 0.55 at that epoch"
    )
    assert not line.markup
    alone = white_box_line("dp_2_layers", conformance(), [])
    assert alone.text.endswith("; black-box bound not measured")
    refuting = white_box_line("dp_2_layers", conformance(dataclasses.replace(BOUND, epsilon=9.0)), [])
    assert refuting.markup == {"red": True}


def test_a_bound_above_the_claim_refutes_it_and_confidence_shows_alpha():
    assert not BOUND.refutes_claim and dataclasses.replace(BOUND, epsilon=7.3).refutes_claim
    assert dataclasses.replace(BOUND, alpha=0.05).confidence == "95.0 %"
    assert BOUND.confidence == "99.9986 %" and np.isclose(1 - BOUND.alpha, 0.999986, atol=1e-6)
