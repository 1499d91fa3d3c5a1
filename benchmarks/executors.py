"""Wall time of the same cold run wherever its work runs, on this machine.

    python benchmarks/executors.py [calibrate] [references] [cifar10-quick DIR]

Each case runs pytest in a subprocess, cold (``--privacy-no-cache``), three
times: everything in the pytest process, one thing after another
(``--privacy-workers=0``: no overlap); the default local executor (training
here, attacks in worker processes beside it); and ``--privacy-executor=ray``
(a local Ray on this machine's cores). It prints a Markdown table: wall
times, what the overlap saves, Ray's speed-up over the default, and whether
the three ``results.json`` files are byte-identical (they must be: where the
work runs changes no number).

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


#: Where the work runs: the pytest options of each way.
WAYS = {
    "in-process": ["--privacy-executor=local", "--privacy-workers=0"],
    "local": ["--privacy-executor=local"],
    "ray": ["--privacy-executor=ray"],
}


def run(case: str, args: list[str], way: str, where: Path) -> tuple[float, bytes, str]:
    """Seconds, results.json and pytest's last line of one cold run; baselines go to a scratch folder."""
    report = where / f"{case}-{way}"
    command = [
        sys.executable, "-m", "pytest", "-m", "privacy", "-q", "-p", "no:cacheprovider", "--privacy-no-cache",
        "--privacy-update-baselines", *WAYS[way], f"--privacy-report-dir={report}",
        f"--privacy-baselines-dir={where / f'baselines-{case}-{way}'}", *args,
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
    print("| run | in-process (s) | local (s) | Ray, local (s) | overlap saves | Ray vs local | results.json identical | outcomes |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        for case in chosen:
            runs = {way: run(case, cases[case], way, Path(scratch)) for way in WAYS}
            seconds = {way: r[0] for way, r in runs.items()}
            outputs = {r[1] for r in runs.values()}
            print(
                f"| {case} | {seconds['in-process']:.0f} | {seconds['local']:.0f} | {seconds['ray']:.0f} "
                f"| {1 - seconds['local'] / seconds['in-process']:.0%} | {seconds['local'] / seconds['ray']:.2f}x "
                f"| {'yes' if len(outputs) == 1 and b'' not in outputs else 'NO'} "
                f"| {' / '.join(r[2] for r in runs.values())} |",
                flush=True,
            )


if __name__ == "__main__":
    main(sys.argv[1:])
