"""Run the checks as if on other CPUs: the stored chapter outputs and the tests' figures must
not depend on the machine that produced them.

A float32 sum comes out differently with 4-, 8- or 16-wide vector kernels and with a different
split between threads, so a number printed to one digit too many, or a training whose path
hangs on the last bit, passes on the machine that stored it and fails on a reader's. This
script runs ``pytest --nbval chapters/`` and ``pytest tests`` again under each setting below,
on the same machine, with PyTorch's three kernel families held to an older instruction set:

- ATen's own vectorised kernels (``ATEN_CPU_CAPABILITY``: default = no AVX, avx2),
- oneDNN, which runs the larger convolutions (``ONEDNN_MAX_CPU_ISA``),
- MKL, which runs matrix products and the smaller convolutions (``MKL_ENABLE_INSTRUCTIONS``),

and another thread count (``OMP_NUM_THREADS``). Before the tests it checks that each library
took the setting (their own reports: ``torch.backends.cpu.get_cpu_capability()``,
``ONEDNN_VERBOSE``, ``MKL_VERBOSE``), so a setting that silently did nothing cannot pass.
MKL names its instruction set only on Intel CPUs; on others (AMD) its setting is passed on
unverified, and said so.

    python tools/portable.py                    # chapters and tests, every setting
    python tools/portable.py --chapters         # only pytest --nbval chapters/
    python tools/portable.py --setting avx2     # one setting
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> environment; each models a real kind of machine (the native one is `make test`'s)
SETTINGS = {
    "sse4": {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
             "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OMP_NUM_THREADS": "1"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OMP_NUM_THREADS": "2"},
}
# what each library prints for an instruction set, from oldest to newest
LEVELS = [("DEFAULT", "SSE4.1", "SSE4.2"), ("AVX2",), ("AVX512", "AVX10")]

PROBE = """
import json, torch
x = torch.randn(8, 64, 32, 32).to(memory_format=torch.channels_last)
torch.nn.functional.conv2d(x, torch.randn(64, 64, 3, 3), padding=1)   # large: oneDNN
torch.randn(64, 64) @ torch.randn(64, 64)                              # MKL sgemm
print(json.dumps({"aten": torch.backends.cpu.get_cpu_capability(),
                  "threads": torch.get_num_threads()}))
"""


# what MKL reports instead of an instruction set on a CPU it does not dispatch by name
MKL_UNNAMED = "Intel(R) Architecture processors"


def cpu_vendor() -> str:
    """The CPU's vendor id (GenuineIntel, AuthenticAMD), as /proc/cpuinfo gives it."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    return next((ln.split(":", 1)[1].strip() for ln in info.splitlines()
                 if ln.startswith("vendor_id")), "unknown")


def level(report: str) -> int:
    """The index in LEVELS of the instruction set a library reported (-1: none recognised)."""
    report = report.upper().replace("-", "")        # MKL writes AVX-512
    for i in reversed(range(len(LEVELS))):
        if any(name in report for name in LEVELS[i]):
            return i
    return -1


def probe(env: dict[str, str]) -> dict[str, str]:
    """What ATen, oneDNN and MKL say they run under ``env``: their instruction sets, threads."""
    out = subprocess.run([sys.executable, "-c", PROBE], env=env | {"ONEDNN_VERBOSE": "1",
                         "MKL_VERBOSE": "1"}, capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()
    found = json.loads(next(ln for ln in lines if ln.startswith("{")))
    found["onednn"] = next((ln.split("isa:")[1] for ln in lines if "isa:" in ln), "not seen")
    found["mkl"] = next((ln.split("architecture")[1].split("enabled")[0].strip()
                         for ln in lines if ln.startswith("MKL_VERBOSE oneMKL")), "not seen")
    return found


def check_setting(name: str, env: dict[str, str]) -> None:
    """Fail unless every library runs at most the instruction set asked for, with the threads
    asked for; a lower one is fine (an older CPU than the setting models)."""
    setting = SETTINGS[name]
    found = probe(env)
    asked = level(setting["ATEN_CPU_CAPABILITY"])
    print(f"== {name}: ATen {found['aten']}, oneDNN {found['onednn']}, MKL {found['mkl']}, "
          f"{found['threads']} thread(s)", flush=True)
    libs, vendor = ["aten", "onednn", "mkl"], cpu_vendor()
    if level(found["mkl"]) < 0 and MKL_UNNAMED in found["mkl"] and vendor != "GenuineIntel":
        # MKL names its instruction set only on Intel CPUs; elsewhere the setting is passed on
        # but cannot be read back, and ATen and oneDNN are still checked
        print(f"   MKL does not name its instruction set on this CPU ({vendor}): its "
              "setting is passed on, unverified", flush=True)
        libs.remove("mkl")
    for lib in libs:
        if not 0 <= level(found[lib]) <= asked:
            sys.exit(f"portable: error: setting {name!r}: {lib} reports {found[lib]!r}, not at "
                     f"most {setting['ATEN_CPU_CAPABILITY']}; the environment did not take")
    if found["threads"] != int(setting["OMP_NUM_THREADS"]):
        sys.exit(f"portable: error: setting {name!r}: torch runs {found['threads']} threads, "
                 f"not OMP_NUM_THREADS={setting['OMP_NUM_THREADS']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), action="append",
                        help="run only this setting (repeatable; default: all)")
    parser.add_argument("--chapters", action="store_true", help="only pytest --nbval chapters/")
    args = parser.parse_args()
    if platform.machine() not in ("x86_64", "AMD64"):
        parser.error(f"the settings model x86-64 CPUs; this one is {platform.machine()}")
    suites = [["--nbval", "chapters/"]] + ([] if args.chapters else [["tests"]])
    failed = []
    for name in args.setting or SETTINGS:
        env = os.environ | SETTINGS[name]
        check_setting(name, env)
        for suite in suites:
            start = time.monotonic()
            rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 *suite], env=env, cwd=ROOT).returncode
            verdict = "passed" if rc == 0 else f"FAILED (exit {rc})"
            print(f"== {name}: pytest {' '.join(suite)} {verdict} in "
                  f"{time.monotonic() - start:.0f} s", flush=True)
            if rc:
                failed.append(f"{name}: {' '.join(suite)}")
    if failed:
        print("portable: failed under " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
