"""Run the benchmarks (all, or those named: `python -m bench fanout ingest`) into docs/performance.md."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import platform
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# CENCOMM_BENCH_DOC: write the sections into another file (a run from an exported tree writes into the
# working tree's docs/performance.md).
DOC = Path(os.environ.get("CENCOMM_BENCH_DOC") or ROOT / "docs" / "performance.md")
MARK = "<!-- bench:{name} -->"


def measured_code() -> str:
    """The commit the benchmarks ran on (CENCOMM_BENCH_COMMIT for a tree exported without .git)."""
    if os.environ.get("CENCOMM_BENCH_COMMIT"):
        return os.environ["CENCOMM_BENCH_COMMIT"]
    try:
        git = ["git", "-C", str(ROOT)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/performance.md"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.stdout.strip() + (" with uncommitted changes" if changed.stdout.strip() else "")


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in (ROOT / "bench").glob("bench_*.py"))
    failed = []
    for name in names:
        started = time.monotonic()
        try:  # one benchmark that fails does not stop the others (its section keeps its last figures)
            module = importlib.import_module(f"bench.bench_{name}")
            print(f"== {module.TITLE}", flush=True)
            body = module.run()
        except Exception:
            traceback.print_exc()
            print(f"== bench {name} FAILED after {time.monotonic() - started:.0f} s", flush=True)
            failed.append(name)
            continue
        # Read the file only now: another benchmark may have written its section while this one ran.
        text = (
            DOC.read_text()
            if DOC.exists()
            else "# Performance\n\nWritten by `make bench`; each section is replaced when its benchmark runs again.\n"
        )
        stamp = (
            f"\n_Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, code at {measured_code()}, in {time.monotonic() - started:.0f} s: "
            f"`make bench` (or `.venv/bin/python -m bench {name}`)._\n"
        )
        section = f"{MARK.format(name=name)}\n## {module.TITLE}\n{stamp}\n{body.strip()}\n{MARK.format(name=name)}\n"
        start_mark = MARK.format(name=name)
        if text.count(start_mark) == 2:
            before, _, rest = text.partition(start_mark)
            _, _, after = rest.partition(start_mark)
            text = before + section.rstrip("\n") + after
        else:
            text = text.rstrip("\n") + "\n\n" + section
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text)
        print(body, flush=True)
    if failed:
        print(f"failed: {' '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _stop(signum: int, frame: object) -> None:
    # SIGTERM (and SIGINT, which a shell ignores for a command run in the background) end the run
    # through the benchmarks' finally blocks: servers stopped, their databases dropped.
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
