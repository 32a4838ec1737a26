"""The examples and the benchmark scripts run end to end (smoke tests, not timings).

Benchmarks report numbers and are never timed here; these tests only keep the
scripts from rotting. Each runs in a subprocess, as a user would run it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args, cwd):
    proc = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_digits_demo_prints_accuracy_and_saves_the_curve(tmp_path):
    pytest.importorskip("matplotlib")
    out = _run(
        ROOT / "examples" / "plot_digits.py",
        "--output",
        tmp_path / "c.png",
        cwd=tmp_path,
    )
    accuracy = float(out.split("Held-out accuracy:")[1].split()[0])
    assert accuracy > 0.95
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_early_stopping_example_restores_an_earlier_epoch(tmp_path):
    pytest.importorskip("matplotlib")
    out = _run(
        ROOT / "examples" / "plot_early_stopping.py",
        "--output",
        tmp_path / "e.png",
        cwd=tmp_path,
    )
    assert "best epoch" in out.lower()
    assert (tmp_path / "e.png").exists()


@pytest.mark.parametrize(
    "script, expected",
    [
        ("plot_compare_mlp.py", "MLPClassifier"),
        ("plot_grid_search.py", "Best parameters"),
        ("plot_class_weights.py", "balanced accuracy"),
        ("plot_gradient_check.py", "worst relative error"),
    ],
)
def test_gallery_example_runs_and_saves_its_figure(script, expected, tmp_path):
    pytest.importorskip("matplotlib")
    if script == "plot_grid_search.py":
        pytest.importorskip("pandas")
    out = _run(ROOT / "examples" / script, "--output", tmp_path / "f.png", cwd=tmp_path)
    assert expected in out
    assert (tmp_path / "f.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "script, args",
    [
        ("bench_training.py", ["--quick"]),
        ("bench_overhead.py", ["--quick"]),
        ("bench_accuracy.py", ["--seeds", "1"]),
    ],
)
def test_benchmark_script_runs(script, args, tmp_path):
    out = _run(ROOT / "benchmarks" / script, *args, cwd=ROOT)
    assert "|" in out  # printed its Markdown table
