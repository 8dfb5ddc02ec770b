"""What a real `lstmcast` process imports and sets up before it does any work."""

import os
import subprocess
import sys
import textwrap

from helpers import train_tiny

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "NO_COLOR": "1", "COLUMNS": "120"}

# Runs the CLI in this process, then prints the top-level packages it imported.
PROBE = textwrap.dedent(
    """
    import sys
    from lstmcast.cli import app
    try:
        app(sys.argv[1:], prog_name="lstmcast", standalone_mode=False)
    except SystemExit:
        pass
    print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
    """
)


def imported_by(args, cwd) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *map(str, args)],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.strip().splitlines()[-1].split())


def test_predict_imports_only_what_it_uses(tmp_path):
    run = train_tiny(tmp_path)
    modules = imported_by(["predict", "--model", run.model, run.data, "-o", "f.csv"], tmp_path)
    assert (tmp_path / "f.csv").exists()
    assert "torch" in modules  # the probe saw a real forecast
    assert not modules & {"sklearn", "scipy", "matplotlib"}, sorted(modules)


def test_openmp_threads_sleep_when_idle_unless_the_user_chose():
    code = "import os, lstmcast; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in ENV.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert default.stdout.strip() == "PASSIVE", default.stderr
    chosen = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "OMP_WAIT_POLICY": "ACTIVE"},
        capture_output=True,
        text=True,
    )
    assert chosen.stdout.strip() == "ACTIVE", chosen.stderr
