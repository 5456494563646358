"""Time the data step (`maillage data`) cold (empty data folder) and warm (second run).

Run: ``.venv/bin/python -m benchmarks.data_step``. Prints a JSON line per run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(data_dir: Path) -> float:
    """Seconds for one `maillage data` run on ``data_dir``."""
    env = {**os.environ, "MAILLAGE_DATA_DIR": str(data_dir)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "maillage.cli", "data"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        cold = run_once(data_dir)
        warm = run_once(data_dir)
    print(json.dumps({"benchmark": "data_step", "cold_s": round(cold, 2),
                      "warm_s": round(warm, 2)}))


if __name__ == "__main__":
    main()
