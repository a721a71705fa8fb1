"""Start-up of the command lines: wall time of `--help` / `--version` and what they import.

Each command runs in a fresh interpreter (`python -X importtime -m ...`) `--repeat` times; the table
gives the median wall time, the import time Python itself reports (sum of the self times) and
whether torch, pygame or matplotlib were imported (they must not be: tests/test_packaging.py).
For scale, the last row imports torch alone.

    python bench/cli_startup.py --repeat 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = [
    ("sandbox", ["--help"]), ("sandbox", ["--version"]), ("sandbox", ["train", "--help"]),
    ("sandbox", ["render", "--help"]), ("sandbox", ["lesson", "--help"]),
    ("tdl", ["--help"]), ("tdl", ["--version"]), ("tdl", ["run", "--help"]), ("tdl", ["embed", "--help"]),
]
HEAVY = ("torch", "pygame", "matplotlib")


def measure(args: list[str], repeat: int) -> tuple[float, float, list[str]]:
    walls, imports, heavy = [], [], set()
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        us, mods = 0, set()
        for line in r.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                self_us, _, name = (p.strip() for p in line[len("import time:"):].split("|"))
                if self_us.isdigit():
                    us += int(self_us)
                    mods.add(name.split(".")[0])
        imports.append(us / 1e6)
        heavy |= {m for m in HEAVY if m in mods}
    return statistics.median(walls), statistics.median(imports), sorted(heavy)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    print(f"# {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start, python {sys.version.split()[0]}")
    print(f"{'command':<34} {'wall s':>7} {'imports s':>9}  heavy imports")
    for prog, argv in COMMANDS:
        wall, imp, heavy = measure(["-m", prog, *argv], a.repeat)
        name = ("diffusion-sandbox" if prog == "sandbox" else prog) + " " + " ".join(argv)
        print(f"{name:<34} {wall:>7.2f} {imp:>9.2f}  {', '.join(heavy) or '-'}")
    wall, imp, heavy = measure(["-c", "import torch"], a.repeat)
    name = '(python -c "import torch")'
    print(f"{name:<34} {wall:>7.2f} {imp:>9.2f}  {', '.join(heavy)}")


if __name__ == "__main__":
    main()
