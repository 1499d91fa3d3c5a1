"""The privacy report: TF Privacy's plots and every number, as reviewable artifacts.

* ``epochs.png`` - ``privacy_report.plot_by_epochs``: AUC and attacker
  advantage on the entire dataset, per model and attack, by epoch.
* ``privacy_vs_accuracy.png`` - ``privacy_report.plot_privacy_vs_accuracy``
  against *test* accuracy, as in the codelab (which feeds validation accuracy
  into the plot's ``accuracy_train`` field). Here the metadata keep the true
  train accuracy and the plot gets a relabelled copy instead.
* ``index.html`` - one self-contained page for reviewers (:mod:`privacy_checks.report.html`).
* ``summary.md`` - the verdict, setup changes, failures and the entire dataset's numbers
  for the CI's checks page (:mod:`privacy_checks.report.markdown`).
* ``results.json`` - every metric of every (model, epoch, attack, slice), the
  accuracies and losses, each check's verdict, and for DP models the
  accountant's epsilon per epoch, the DP guarantee checks and each DP model's white-box
  canary bound (``white_box_bounds``). No timestamps or timings:
  the same run writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

from privacy_checks.attack import accounting
from privacy_checks.report.html import write_html
from privacy_checks.report.markdown import write_markdown
from privacy_checks.report.measured import Measured
from privacy_checks.report.plots import write_plots
from privacy_checks.spec.environment import machine
from privacy_checks.spec.files import write_atomic


DECIMALS = 6


def _round(value: float) -> float:
    return round(float(value), DECIMALS)


def _built_by(spec) -> dict:
    """A user's builder and what its model outputs (nothing for the codelab CNN, which gives logits)."""
    if spec.builder is None and spec.outputs is None:
        return {}
    found = {key: spec.fingerprint()[key] for key in ("builder", "params", "version") if key in spec.fingerprint()}
    found["outputs"] = spec.output_kind
    if spec.output_kind == "probabilities":
        found["attacks_see"] = "the model's probabilities (kept as log-probabilities, softmax(log p) = p)"
    return found


def results_document(measured: Measured) -> dict:
    """Everything measured in this session, ready for ``json.dumps``.

    Each compared result carries, next to its ``tolerance``, its
    ``detectable_rise`` per metric: the smallest true rise above the baseline
    its check catches with ``detectable_rise_power`` (80 %), tolerance +
    z_0.8 sqrt(2) sigma; ``detectable_rise_basis`` says ``calibrated_noise``,
    or ``lower_bound`` where no sigma is known and it is the tolerance itself.
    """
    from privacy_checks.judge.tolerances import POWER

    profile, comparisons = measured.profile, measured.comparisons
    models: dict[str, dict] = {}
    results = []
    for evaluation in measured.evaluations:
        snapshot = evaluation.snapshot
        spec = profile.model(snapshot.model)
        model = models.setdefault(snapshot.model, {"label": spec.label, **_built_by(spec), "epochs": []})
        epoch = {
            "epoch": snapshot.epoch,
            "train_accuracy": _round(snapshot.train_accuracy),
            "test_accuracy": _round(snapshot.test_accuracy),
            "train_loss": _round(snapshot.train_loss),
            "test_loss": _round(snapshot.test_loss),
        }
        if spec.dp is not None:
            model["dp"] = spec.dp.accounted()
            if spec.dp.max_epsilon is not None:
                model["dp"]["max_epsilon"] = spec.dp.max_epsilon
            epoch["epsilon"] = _round(
                accounting.epsilon(
                    spec.dp, len(snapshot.labels_members), profile.batch_size, snapshot.epoch
                )
            )
        model["epochs"].append(epoch)
        for record in evaluation.records:
            comparison = comparisons.get(record.key)
            entry = {
                "model": record.model,
                "epoch": record.epoch,
                "attack": record.attack,
                "slice": record.slice,
                "auc": _round(record.auc),
                "attacker_advantage": _round(record.attacker_advantage),
                # TF Privacy's max |TPR - FPR|, as the codelab and its plots report it.
                **(
                    {} if record.attacker_advantage_two_sided is None
                    else {"attacker_advantage_two_sided": _round(record.attacker_advantage_two_sided)}
                ),
                **{name: _round(value) for name, value in record.tpr_at_fpr.items()},
                "ci95": {name: [_round(lo), _round(hi)] for name, (lo, hi) in record.intervals.items()},
                "ppv": _round(record.ppv),
                "members": record.members,
                "non_members": record.non_members,
                **(
                    {}
                    if record.epsilon_lower_bound is None
                    else {"epsilon_lower_bound": _round(record.epsilon_lower_bound)}
                ),
                "verdict": comparison.status.value if comparison else "not checked",
            }
            if comparison is not None:
                entry["baseline"] = {
                    check.metric: None if check.baseline is None else _round(check.baseline)
                    for check in comparison.checks
                }
                entry["tolerance"] = {
                    check.metric: _round(check.tolerance) for check in comparison.checks
                }
                entry["tolerance_source"] = {
                    check.metric: check.tolerance_source for check in comparison.checks
                }
                # What a pass rules out: the smallest rise caught at 80 % power, and whether
                # it is exact (calibrated noise) or only the tolerance, a lower bound.
                entry["detectable_rise"] = {
                    check.metric: None if check.detectable_rise is None else _round(check.detectable_rise)
                    for check in comparison.checks
                }
                entry["detectable_rise_basis"] = {
                    check.metric: check.detectable_rise_basis for check in comparison.checks
                }
            results.append(entry)
    for name, history in measured.histories.items():
        if name in models:
            models[name]["history"] = [
                {key: (value if key == "epoch" else _round(value)) for key, value in logs.items()}
                for logs in history
            ]
    return {
        "profile": {
            "name": profile.name,
            "hash": profile.hash,
            "seed": profile.seed,
            "data_source": measured.data_source,
            "report_epochs": list(profile.report_epochs),
            "fprs": list(profile.fprs),
        },
        "versions": dict(measured.versions),
        # Where these numbers were measured: they move slightly across machine types.
        "machine": machine(),
        "models": models,
        "results": results,
        # A result's detectable_rise is caught with this probability (tolerances.detectable_rise).
        "detectable_rise_power": POWER,
        # Per DP model, the white-box canary epsilon lower bound its dp_conformance check measured.
        "white_box_bounds": {
            check.model: {
                "epoch": check.epoch,
                "epsilon_lower_bound": _round(check.white_box.epsilon),
                "method": check.white_box.method,
                "canaries": check.white_box.canaries,
                "steps": check.white_box.steps,
                "alpha": check.white_box.alpha,
                "accountant_epsilon": _round(check.white_box.accountant_epsilon),
                "one_run_epsilon_lower_bound": _round(check.white_box.one_run_epsilon),
                "refutes_claim": check.white_box.refutes_claim,
            }
            for check in sorted(measured.guarantees.values(), key=lambda c: (c.model, c.epoch))
            if check.white_box is not None
        },
        "dp_checks": [
            {
                "model": check.model,
                "epoch": check.epoch,
                "attack": check.attack,
                "check": check.check,
                "obtained": _round(check.obtained),
                "limit": _round(check.limit),
                "limit_is": check.detail,
                "alpha": check.alpha,
                "checks_sharing_the_budget": check.family,
                "at_chance": check.at_chance,
                "verdict": "passed" if check.passed else "failed",
            }
            for check in sorted(
                measured.guarantees.values(), key=lambda c: (c.model, c.epoch, c.attack, c.check)
            )
        ],
    }


def write_report(directory: Path, measured: Measured) -> list[Path]:
    """Writes ``results.json``, ``summary.md``, the two plots and ``index.html``; returns the paths written.

    ``summary.md`` is written even when nothing could be measured: the CI page says why.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    measured = measured.ordered()
    results_path = directory / "results.json"
    document = results_document(measured)
    write_atomic(results_path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    written = [results_path, write_markdown(directory, measured)]
    if measured.evaluations:
        with_tf_privacy = any(evaluation.results is not None for evaluation in measured.evaluations)
        plots = write_plots(directory, measured.evaluations) if with_tf_privacy else []
        titles = (
            "Vulnerability by epoch (TF Privacy plot_by_epochs)",
            "Privacy vs test accuracy (TF Privacy plot_privacy_vs_accuracy)",
        )
        written += plots
        written.append(write_html(directory, measured, dict(zip(titles, plots))))
    return written
