"""Wall time of the same cold run with the local executor and with Ray on this machine.

    python benchmarks/executors.py [calibrate] [references] [cifar10-quick DIR]

Each case runs pytest twice in a subprocess, cold (``--privacy-no-cache``),
once with ``--privacy-executor=local`` and once with ``--privacy-executor=ray``
(a local Ray on this machine's cores), and prints a Markdown table: wall
time, the speed-up, and whether the two ``results.json`` files are
byte-identical (they must be: where the work runs changes no number).

* ``calibrate``: the default profile, ``--privacy-calibrate=5`` (every model
  trained under five seeds; RMIA's two references per model once).
* ``references``: ``digits-strong``'s 2-layer model (LiRA offline and
  online, RMIA; 16 reference models).
* ``cifar10-quick DIR``: the codelab's recipe on CIFAR-10 images in DIR.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES = {
    "calibrate": ["--privacy-calibrate=5"],
    "references": ["--privacy-profile=digits-strong", "-k", "2_layers and not dp_"],
}


def run(case: str, args: list[str], executor: str, where: Path) -> tuple[float, bytes, str]:
    """Seconds, results.json and pytest's last line of one cold run; baselines go to a scratch folder."""
    report = where / f"{case}-{executor}"
    command = [
        sys.executable, "-m", "pytest", "-m", "privacy", "-q", "-p", "no:cacheprovider", "--privacy-no-cache",
        "--privacy-update-baselines", f"--privacy-executor={executor}", f"--privacy-report-dir={report}",
        f"--privacy-baselines-dir={where / f'baselines-{case}-{executor}'}", *args,
    ]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-500:]
    results = report / "results.json"
    return seconds, results.read_bytes() if results.exists() else b"", last


def main(argv: list[str]) -> None:
    cases = dict(CASES)
    if "cifar10-quick" in argv:
        folder = argv[argv.index("cifar10-quick") + 1]
        cases["cifar10-quick"] = ["--privacy-profile=cifar10-quick", f"--privacy-dataset=imagefolder:{folder}"]
    chosen = [c for c in cases if c in argv] or list(CASES)
    print("| run | local (s) | Ray, local (s) | speed-up | results.json identical | outcome |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        for case in chosen:
            local = run(case, cases[case], "local", Path(scratch))
            ray = run(case, cases[case], "ray", Path(scratch))
            print(
                f"| {case} | {local[0]:.0f} | {ray[0]:.0f} | {local[0] / ray[0]:.2f}x "
                f"| {'yes' if local[1] and local[1] == ray[1] else 'NO'} | {local[2]} / {ray[2]} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
