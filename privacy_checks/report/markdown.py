"""``summary.md``: the CI's own summary of a run, in Markdown, for the checks page.

A reviewer on a pull request sees the job's summary before any artifact: the
verdict line, what changed in the setup since the baselines were recorded,
the failures (one table row per failing metric, worst first), and the entire
dataset's numbers at the last epoch against their baselines, per model and
attack. GitHub Actions shows the Markdown a step appends to the file that
``$GITHUB_STEP_SUMMARY`` names on the run's page; :func:`append_step_summary`
appends it there, and never fails the run if it cannot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from privacy_checks.judge import messages
from privacy_checks.judge.verdicts import MetricCheck, Status
from privacy_checks.report import review
from privacy_checks.report.measured import Measured
from privacy_checks.report.table import metric_label
from privacy_checks.spec.files import write_atomic

#: Failing metrics listed before "... N more".
MAX_ROWS = 30
#: The environment variable GitHub Actions sets to the file a step's summary is appended to.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _table(header: list[str], rows: list[list[str]], numbers: range) -> list[str]:
    """A Markdown table; the columns in ``numbers`` are right-aligned."""
    rule = ["---:" if i in numbers else "---" for i in range(len(header))]
    return [f"| {' | '.join(header)} |", f"| {' | '.join(rule)} |"] + [
        f"| {' | '.join(_cell(c) for c in row)} |" for row in rows
    ]


def summary_markdown(measured: Measured) -> str:
    """The whole summary; deterministic (no times): the same run writes the same text."""
    verdict = review.verdict(measured)
    icon = ":x:" if verdict.failed else ":white_check_mark:"
    out = [f"### {icon} Privacy checks, profile `{measured.profile.name}`: {verdict.line}", ""]
    changes = review.setup_changes(measured)
    if changes:
        out += ["**What changed since the baselines were recorded** (compared anyway: that is how a change is judged)", ""]
        out += [f"- `{model}`: {'; '.join(found)}" for model, found in changes.items()] + [""]
    out += _failures(measured)
    now = review.entire_dataset_now(measured)
    if now:
        metrics = ["auc", "attacker_advantage"]
        header = ["model", "attack", "epoch"] + [
            f"{metric_label(m)} {part}" for m in metrics for part in ("obtained", "baseline", "tolerance")
        ] + ["verdict against the old baselines" if measured.update_baselines else "verdict"]
        rows = [
            [f"`{n.model}`", n.attack, str(n.epoch)]
            + [text for m in metrics for text in _now(n.checks.get(m))]
            + [n.verdict if n.verdict != Status.REGRESSED.value else "**regressed**"]
            for n in now
        ]
        out += ["**Entire dataset at the last epoch: baseline against now**", ""]
        out += _table(header, rows, numbers=range(2, len(header) - 1)) + [""]
    out += [
        "The report's `index.html` (the CI artifact) shows every check, filterable, the baseline against "
        "now drawn, and which examples leak; `results.json` holds every number.",
        "",
    ]
    return "\n".join(out)


def _now(check: MetricCheck | None) -> list[str]:
    if check is None:
        return ["-", "-", "-"]
    return [_number(check.obtained), _number(check.baseline), f"+{check.tolerance:.4f}"]


def _failures(measured: Measured) -> list[str]:
    """The failures, compact: one row per failing check (worst first, as the page orders them),
    what failed in it, and the errors that left checks without a verdict."""
    found = review.failures(measured)
    unmeasured = review.unmeasured(measured)
    if not found and not unmeasured:
        return []
    out = ["**Failures**", ""]
    if found:
        rows = [[f.title, f.summary] for f in found[:MAX_ROWS]]
        out += _table(["check", "what failed (obtained > baseline + tolerance)"], rows, numbers=range(0))
        if len(found) > MAX_ROWS:
            out.append(f"\n... and {len(found) - MAX_ROWS} more failing checks in `index.html`.")
        if any(f.comparison is not None for f in found):
            out += ["", f"If the change is expected, review it and accept it with `{messages.rerecord(measured.profile.name)}`."]
        out.append("")
    for error, baseline, other in unmeasured:
        out.append(f"- could not be measured ({baseline + other} checks): {_first_line(error)}")
    return out + ([""] if unmeasured else [])


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 3].rstrip() + "..."


def write_markdown(directory: Path, measured: Measured) -> Path:
    """Writes ``summary.md`` atomically; returns its path."""
    path = Path(directory) / "summary.md"
    write_atomic(path, summary_markdown(measured))
    return path


def append_step_summary(text: str, environ: Mapping[str, str] = os.environ) -> tuple[bool, str] | None:
    """Appends ``text`` to the file ``$GITHUB_STEP_SUMMARY`` names, in one ``write`` to a file
    opened for appending (another step's lines cannot land inside it).

    Returns None without the variable; else (written, the terminal's line about it). A file that
    cannot be written is said, never raised: the summary is a courtesy, the verdict is the run's.
    """
    target = environ.get(STEP_SUMMARY)
    if not target:
        return None
    data = ("\n" + text.rstrip("\n") + "\n").encode("utf-8")
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
        finally:
            os.close(descriptor)
    except OSError as error:
        return False, (
            f"could not append the privacy summary to ${STEP_SUMMARY} ({target}): "
            f"{error.strerror or error}; it is in summary.md of the report"
        )
    return True, f"privacy summary appended to ${STEP_SUMMARY} (shown on the CI run's page)"
