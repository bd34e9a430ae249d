"""The pages' reconnect back-off (``Hub.reconnectDelay`` in app.js), run in Node: full jitter from 0
to the capped exponential step, never sooner than a shedding server's ``retry_after``."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

APP_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "frontend" / "js" / "app.js"
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

SAMPLE = """
const window = globalThis;  // the page's globals, as little of them as app.js needs to load
window.addEventListener = () => {};
window.MutationObserver = class { observe() {} };
window.document = {querySelector: () => null, getElementById: () => null, querySelectorAll: () => [],
  addEventListener() {}, readyState: "complete", body: null, documentElement: {}};
window.location = {protocol: "https:", host: "hub.example"};
eval(require("fs").readFileSync(process.argv[1], "utf8"));
const out = {};
for (const [attempt, retry] of [[0, 0], [3, 0], [20, 0], [0, 7]]) {
  out[`${attempt}/${retry}`] = Array.from({length: 2000}, () => window.Hub.reconnectDelay(attempt, retry));
}
console.log(JSON.stringify(out));
"""


def delays() -> dict[str, list[float]]:
    run = subprocess.run(
        ["node", "-e", SAMPLE, str(APP_JS)], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(run.stdout)


def test_reconnect_delays_are_fully_jittered_capped_and_respect_retry_after():
    sampled = delays()
    first, fourth, late, shed = sampled["0/0"], sampled["3/0"], sampled["20/0"], sampled["0/7"]
    assert 0 <= min(first) and max(first) <= 500  # attempt 0: anywhere in [0, 0.5 s]
    assert 0 <= min(fourth) and max(fourth) <= 4000  # 0.5 s x 2^3
    assert min(fourth) < 500 < 3500 < max(fourth)  # spread over the whole step, not around its middle
    assert max(late) <= 30000 and max(late) > 25000  # capped at 30 s, still spread below it
    assert min(late) < 5000
    assert min(shed) >= 7000 and max(shed) <= 14000  # at least retry_after, spread over as long again
    assert len({round(d) for d in fourth}) > 1000  # not a handful of fixed values: jitter
