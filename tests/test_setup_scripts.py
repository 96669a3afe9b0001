"""Setup installs torch from where the user's pip is configured to look, with uv or with pip, and
stops when the installed packages do not meet each other's requirements.

scripts/install-torch hands pip's index settings to uv (scripts/uv-pip-install) and falls back to
pip where it cannot. These tests install small wheels of our own from a local directory that
only pip's settings name (no index is reached: nothing touches the network).
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"

pytestmark = pytest.mark.skipif(not UV.exists(), reason="the pinned uv is fetched by scripts/setup")


def build_wheel(directory: Path, version: str, name: str = "wbprobe", requires: tuple[str, ...] = ()) -> None:
    """A pure-Python wheel `name` (default wbprobe) whose module says its version."""
    needs = "".join(f"Requires-Dist: {r}\n" for r in requires)
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{name}-{version}.dist-info/METADATA":
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{needs}",
        f"{name}-{version}.dist-info/WHEEL":
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = f"{name}-{version}.dist-info/RECORD"
    lines = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        lines.append(f"{path},sha256={digest},{len(text.encode())}")
    files[record] = "\n".join(lines + [f"{record},,"]) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(directory / f"{name}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def simple_index(directory: Path, wheels: Path) -> str:
    """A package index (PEP 503, on disk) serving the wheels in `wheels`; its file:// URL."""
    page = directory / "wbprobe" / "index.html"
    page.parent.mkdir(parents=True)
    links = "".join(f'<a href="{w.as_uri()}">{w.name}</a>' for w in sorted(wheels.glob("*.whl")))
    page.write_text(f"<html><body>{links}</body></html>")
    return directory.as_uri()


def pip_env(tmp_path: Path, config: str | None = None, **pip_variables: str) -> dict[str, str]:
    """This process's environment with pip's settings replaced by ours: a config file (or none at
    all) and PIP_* variables; no other index is reachable (PyPI is switched off unless an index
    is named), so only what they name can be installed."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PIP_", "UV_"))}
    # This user's pip and uv config files are not read either (the system's /etc/pip.conf still is).
    home = str(tmp_path / "home")
    env.update(HOME=home, XDG_CONFIG_HOME=home, XDG_CONFIG_DIRS=str(tmp_path / "etc"))
    if config is None:
        env["PIP_CONFIG_FILE"] = os.devnull  # no config file is read
    else:
        (tmp_path / "pip.conf").write_text(config)
        env["PIP_CONFIG_FILE"] = str(tmp_path / "pip.conf")
    if "PIP_INDEX_URL" not in pip_variables:
        env["PIP_NO_INDEX"] = "1"
    env["UV_CACHE_DIR"] = str(tmp_path / "uv-cache")
    env.update(pip_variables)
    return env


def installed_version(target: Path) -> str:
    return subprocess.run(
        [target / "bin" / "python", "-c", "import wbprobe; print(wbprobe.VERSION)"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def uv_pip_install(env: dict[str, str], target: Path, spec: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/uv-pip-install", "--quiet", "--python", target / "bin" / "python", spec],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )


@pytest.fixture
def target(tmp_path):
    venv.create(tmp_path / "target", with_pip=False)
    return tmp_path / "target"


def test_uv_installs_from_the_wheel_directory_pip_is_told_of(tmp_path, target):
    build_wheel(tmp_path / "wheels", "1.0")
    env = pip_env(tmp_path, PIP_FIND_LINKS=str(tmp_path / "wheels"))
    done = uv_pip_install(env, target, "wbprobe==1.0")
    assert done.returncode == 0, done.stderr
    assert installed_version(target) == "1.0"


def test_uv_installs_from_the_index_pip_is_told_of(tmp_path, target):
    build_wheel(tmp_path / "wheels", "1.0")
    env = pip_env(tmp_path, PIP_INDEX_URL=simple_index(tmp_path / "simple", tmp_path / "wheels"))
    done = uv_pip_install(env, target, "wbprobe==1.0")
    assert done.returncode == 0, done.stderr
    assert installed_version(target) == "1.0"


def test_pip_precedence_holds_environment_over_install_section_over_global(tmp_path, target):
    for version in ("1.0", "2.0", "3.0"):
        build_wheel(tmp_path / f"wheels-{version}", version)
    config = (f"[global]\nfind-links = {tmp_path / 'wheels-1.0'}\n"
              f"[install]\nfind-links = {tmp_path / 'wheels-2.0'}\n")
    assert uv_pip_install(pip_env(tmp_path, config), target, "wbprobe").returncode == 0
    assert installed_version(target) == "2.0"
    env = pip_env(tmp_path, config, PIP_FIND_LINKS=str(tmp_path / "wheels-3.0"))
    assert uv_pip_install(env, target, "wbprobe>2").returncode == 0
    assert installed_version(target) == "3.0"


def test_a_setting_uv_is_not_given_leaves_the_install_to_pip(tmp_path):
    build_wheel(tmp_path / "wheels", "1.0")
    target = tmp_path / "target"
    venv.create(target, with_pip=True)  # install-torch reads pip's settings with the venv's pip
    env = pip_env(tmp_path, PIP_FIND_LINKS=str(tmp_path / "wheels"), PIP_PROXY="http://127.0.0.1:9")
    refused = uv_pip_install(env, target, "wbprobe==1.0")
    assert refused.returncode == 3 and "proxy" in refused.stderr
    # A proxy is not needed for a local directory: pip installs what uv was not asked to.
    done = subprocess.run(
        ["scripts/install-torch", target, "wbprobe==1.0"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "installing it with pip instead" in done.stderr
    assert installed_version(target) == "1.0"


def test_setup_stops_when_installed_packages_do_not_meet_each_others_requirements(tmp_path, target):
    """What setup runs after the lock and torch are in (a torch it kept may not fit the lock)."""
    build_wheel(tmp_path / "wheels", "1.0", requires=("wbneeded>=2",))
    for version in ("1.0", "2.0"):
        build_wheel(tmp_path / "wheels", version, name="wbneeded")
    env = pip_env(tmp_path, PIP_FIND_LINKS=str(tmp_path / "wheels"))

    def check() -> subprocess.CompletedProcess:
        return subprocess.run(["scripts/check-installed", target], cwd=ROOT, env=env, capture_output=True, text=True)

    def install(spec: str) -> None:
        done = subprocess.run([UV, "pip", "install", "--quiet", "--no-deps", "--python", target / "bin" / "python",
                               "--find-links", tmp_path / "wheels", "--no-index", spec],
                              env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    install("wbprobe==1.0")
    missing = check()
    assert missing.returncode != 0 and "wbneeded" in missing.stderr
    install("wbneeded==1.0")
    too_old = check()
    assert too_old.returncode != 0 and "wbneeded" in too_old.stderr and "1.0" in too_old.stderr
    install("wbneeded==2.0")
    assert check().returncode == 0
