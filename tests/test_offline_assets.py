"""The offline assets: pinned by npm's lockfile, staged outside _static/, and a CDN fallback without npm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_versions_are_pinned_exactly():
    deps = json.loads((ROOT / "package.json").read_text())["dependencies"]
    assert set(deps) == {"mathjax", "requirejs", "@jupyter-widgets/html-manager"}
    assert all(v[0].isdigit() for v in deps.values()), f"pin exact versions: {deps}"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in deps.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_the_project_has_no_static_folder():
    # Jupyter Book adds every .js below the static paths to every page once _static/ exists
    assert not (ROOT / "_static").exists()


def test_config_serves_the_local_copies():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert cfg["mathjax_path"] == "mathjax/tex-mml-chtml.js"
    assert list(cfg["nb_ipywidgets_js"]) == ["requirejs/require.js", "widget-paths.js", "html-manager/embed-amd.js"]
    assert cfg["html_static_path"] == ["_assets", "_build/offline-assets"]


def test_without_npm_the_build_falls_back_to_the_cdn(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no npm on this PATH
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "offline_assets.py")], capture_output=True,
                            text=True, env=env, check=True)
    assert "npm was not found" in result.stderr and "CDN" in result.stderr
    config_path = ROOT / result.stdout.strip()
    assert config_path.name == "_config.cdn.yml"
    cfg = yaml.safe_load(config_path.read_text())
    sphinx = cfg["sphinx"]["config"]
    assert "mathjax_path" not in sphinx and "nb_ipywidgets_js" not in sphinx
    assert sphinx["html_static_path"] == ["_assets"]
    assert cfg["title"] == yaml.safe_load((ROOT / "_config.yml").read_text())["title"]
