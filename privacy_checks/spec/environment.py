"""Where numbers are measured: the package versions that change them and the machine type.

Both are stored with baselines and results; another version or machine type is a note, never a failure.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import shutil
import subprocess
from collections import Counter
from typing import Any


#: Distributions whose versions are stored with baselines and shown in the header.
VERSIONED = ("tensorflow", "tensorflow-privacy", "numpy", "scikit-learn")


def versions() -> dict[str, str]:
    """Versions of Python, of this package (its attacks and metrics are part of the instrument)
    and of the packages that change the numbers (no imports needed)."""
    from privacy_checks import __version__

    found = {"python": platform.python_version(), "privacy-checks": __version__}
    for name in VERSIONED:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


#: CPU features that choose TensorFlow's (Eigen's, oneDNN's) kernels and so can move
#: the last digits of a result: vector width, fused multiply-add, half/bfloat16 and
#: int8 dot products, AMX tiles; on ARM, NEON/SVE and their bf16/int8 forms.
NUMERIC_CPU_FLAGS = frozenset(
    {
        "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c",
        "avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
        "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8",
        "asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm",
    }
)

#: Seconds ``nvidia-smi`` may take before the GPU is recorded as unknown (None).
GPU_QUERY_TIMEOUT = 5.0


def machine() -> dict[str, Any]:
    """The machine type numbers are measured on, as plain JSON-able data.

    ``{"cpu": model name, "cpu_flags": the NUMERIC_CPU_FLAGS present, sorted and
    space-joined, "cores": os.cpu_count(), "gpu": "NVIDIA H100" / "2 x ..." or None}``.

    Stored with baselines because the same profile, seed and package versions
    give slightly different numbers on another CPU or GPU (other SIMD kernels,
    other summation orders): measured here, the 3-layer and DP digits models
    moved by up to 0.05 and 0.27 in some slices' metrics, within their
    calibrated tolerances. A baseline from another machine type is therefore
    a note, never a failure. Read from ``/proc/cpuinfo`` and ``nvidia-smi``
    without importing TensorFlow (which is slow and would grab the GPU), and
    never raises: what cannot be read is recorded as ``platform``'s guess or None.
    """
    return dict(_machine())


@functools.lru_cache(maxsize=None)
def _machine() -> tuple[tuple[str, Any], ...]:
    cpu, flags = _cpuinfo()
    return (
        ("cpu", cpu or platform.processor() or platform.machine() or "unknown"),
        ("cpu_flags", " ".join(sorted(flags & NUMERIC_CPU_FLAGS))),
        ("cores", os.cpu_count()),
        ("gpu", _gpu()),
    )


def _cpuinfo(path: str = "/proc/cpuinfo") -> tuple[str | None, set[str]]:
    """The first CPU's model name and feature flags (x86 ``flags``, ARM ``Features``)."""
    model, flags = None, None
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "model name" and model is None:
                    model = " ".join(value.split()) or None
                elif name in ("flags", "features") and flags is None:
                    flags = set(value.split())
                if model is not None and flags is not None:
                    break
    except OSError:
        pass
    return model, flags or set()


def _gpu() -> str | None:
    """The GPUs ``nvidia-smi`` lists ("NVIDIA H100", "2 x NVIDIA A100-SXM4-80GB"), or None."""
    command = shutil.which("nvidia-smi")
    if command is None:
        return None
    try:
        done = subprocess.run(
            [command, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=GPU_QUERY_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not names:
        return None
    return ", ".join(
        name if count == 1 else f"{count} x {name}" for name, count in sorted(Counter(names).items())
    )
