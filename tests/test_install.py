"""The gate installed the way a team installs it: a wheel in a fresh environment.

``docs/install-in-your-project.md`` tells a team to ``pip install`` the
package (from a git URL or a wheel), not this checkout in editable mode.
This test does that: it builds a wheel from the checkout, installs it into a
new virtual environment that cannot see the checkout, and runs ``pytest -m
privacy`` in a copy of ``examples/tabular``, which must pass against the
example's committed baselines.

Installing TensorFlow (3 GB) into every fresh environment would be slow and
needs a network. The new environment reaches the running environment's
packages instead, through a ``.pth`` line naming a folder of symlinks to
every entry of its site-packages but this package's own: ``privacy_checks``,
its ``.dist-info``, the editable install's ``__editable__*`` finder and
``*.pth``/``*.egg-link`` files. (A folder named in a ``.pth`` line is put on
``sys.path``; ``.pth`` files inside it are not processed.) Only the wheel
then provides ``privacy_checks`` and its ``pytest11`` entry point, which the
test checks before running the example.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import pytest

import privacy_checks

ROOT = Path(__file__).resolve().parent.parent
TABULAR = ROOT / "examples" / "tabular"
#: What building the wheel reads from the checkout (pyproject.toml names README.md as its readme).
WHEEL_SOURCES = ("pyproject.toml", "README.md", "privacy_checks")
#: Entries of the running environment's site-packages the new environment must not see.
OWN_ENTRIES = ("privacy_checks", "privacy_checks-*.dist-info", "__editable__*", "*.pth", "*.egg-link")
#: Generous: on 2 cores the wheel takes about 5 s, the install 3 s, the example's run 10-25 s.
TIMEOUT = 600


def _site_packages() -> Path:
    """The running environment's site-packages: where TensorFlow is installed."""
    for folder in site.getsitepackages():
        if (Path(folder) / "tensorflow").is_dir():
            return Path(folder)
    pytest.skip(f"TensorFlow is not in any of {site.getsitepackages()}")


def _environment() -> dict[str, str]:
    """This process's environment without what would put the checkout on the new one's path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(command: list[object], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=_environment(), capture_output=True, text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"{command} in {cwd}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel`` of a copy of the package's sources (the build leaves build/ and *.egg-info behind)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in WHEEL_SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source], tmp_path)
    wheels = list(dist.glob("privacy_checks-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _fresh_environment(tmp_path: Path) -> Path:
    """A new virtual environment whose ``sys.path`` ends with the running one's packages, ours left out."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path)
    shared = tmp_path / "shared-site-packages"
    shared.mkdir()
    for entry in sorted(_site_packages().iterdir()):
        if not any(fnmatch.fnmatch(entry.name, pattern) for pattern in OWN_ENTRIES):
            (shared / entry.name).symlink_to(entry)
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path).stdout.strip())
    (purelib / "shared-site-packages.pth").write_text(f"{shared}\n")
    return python


@pytest.mark.study
def test_a_wheel_in_a_fresh_environment_runs_the_tabular_example_against_its_baselines(tmp_path):
    started = time.perf_counter()
    wheel = _build_wheel(tmp_path)
    python = _fresh_environment(tmp_path)

    # Nothing provides privacy_checks before the wheel is installed (pip from the shared
    # packages; --no-index: its dependencies must already be there, nothing is downloaded).
    missing = subprocess.run(
        [python, "-c", "import privacy_checks"], cwd=tmp_path, env=_environment(), capture_output=True, text=True
    )
    assert missing.returncode != 0 and "No module named 'privacy_checks'" in missing.stderr, missing.stderr
    _run([python, "-m", "pip", "install", "--no-index", "-q", wheel], tmp_path)

    # The wheel's files, and its pytest11 entry point, are what the new environment uses.
    where = _run(
        [
            python, "-c",
            "import importlib.metadata as m, sysconfig, privacy_checks;"
            "print(privacy_checks.__file__);"
            "print(sysconfig.get_paths()['purelib']);"
            "print(*[e.value for e in m.entry_points(group='pytest11') if e.name == 'privacy_checks.plugin']);"
            "print(m.distribution('privacy-checks').locate_file(''))",
        ],
        tmp_path,
    ).stdout.split("\n")
    module, purelib, entry_point, distribution = (Path(where[0]), Path(where[1]), where[2], Path(where[3]))
    assert module == purelib / "privacy_checks" / "__init__.py", (module, purelib)
    assert ROOT not in module.parents
    assert entry_point == "privacy_checks.plugin"
    assert distribution == purelib
    assert (purelib / "privacy_checks" / "report" / "templates" / "report.html.j2").is_file(), "the report template ships in the wheel"

    # The example as a team's project: its own folder, its pyproject's pythonpath = ["."],
    # its committed baselines.
    project = tmp_path / "tabular"
    shutil.copytree(
        TABULAR, project, ignore=shutil.ignore_patterns("privacy-report", ".pytest_cache", "__pycache__")
    )
    result = _run([python, "-m", "pytest", "-m", "privacy", "-p", "no:cacheprovider"], project)
    output = result.stdout
    assert f"privacy-checks-{privacy_checks.__version__}" in output, output[:2000]  # pytest's plugins line
    assert "18 baseline checks: 18 passed, 0 regressed, 0 improved, 0 new (no baseline), 0 could not be measured" in output, (
        output[-4000:])
    assert "0 unused baseline entries" in output
    assert "== 18 passed in" in output, output[-2000:]  # no failure, and no warnings summary
    assert "warnings summary" not in output, output[-4000:]
    print(f"wheel, fresh environment and the tabular example: {time.perf_counter() - started:.1f} s")
