"""Stage the JavaScript the pages load (MathJax 3, require.js, the ipywidgets HTML manager) from npm.

    python tools/offline_assets.py      # prints the configuration file `jupyter-book build` must use

With npm: `npm ci` installs the versions pinned in package.json / package-lock.json into node_modules/,
the files the pages need are copied to _build/offline-assets/ (served under _static/ through
html_static_path — not the project's _static/, where every .js would be added to every page), and the
configuration is _config.yml.  Without npm: the build says so, and a copy of _config.yml without the
offline block (_config.cdn.yml, git-ignored) makes the pages load those scripts from their CDNs instead.
"""

from __future__ import annotations

import filecmp
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "_build" / "offline-assets"
BEGIN, END = "# offline-assets:begin", "# offline-assets:end"

# what the pages load: (source under node_modules, destination under _build/offline-assets)
FILES = [
    ("requirejs/require.js", "requirejs/require.js"),
    ("mathjax/es5/tex-mml-chtml.js", "mathjax/tex-mml-chtml.js"),
    ("mathjax/es5/input/tex/extensions", "mathjax/input/tex/extensions"),
    ("mathjax/es5/output/chtml/fonts/woff-v2", "mathjax/output/chtml/fonts/woff-v2"),
    ("mathjax/es5/ui", "mathjax/ui"),
    ("mathjax/es5/a11y", "mathjax/a11y"),
    ("@jupyter-widgets/html-manager/dist", "html-manager"),
]
SKIP = shutil.ignore_patterns("*.map", "embed.js", "libembed-amd.js", "*.LICENSE.txt")


def say(message):
    print(message, file=sys.stderr)


def npm_install():
    """`npm ci` unless node_modules already matches package-lock.json."""
    lock = ROOT / "package-lock.json"
    stamp = ROOT / "node_modules" / ".bpbook-lock-sha256"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], cwd=ROOT,
                   check=True, stdout=sys.stderr)
    stamp.write_text(digest)


def stage():
    for src, dest in FILES:
        source, target = ROOT / "node_modules" / src, STAGE / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            if target.exists():
                continue
            shutil.copytree(source, target, ignore=SKIP)
        elif not target.exists() or not filecmp.cmp(source, target, shallow=False):
            shutil.copy2(source, target)


def cdn_config():
    text = (ROOT / "_config.yml").read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path = ROOT / "_config.cdn.yml"  # beside _config.yml: its relative paths (_ext/, …) resolve the same way
    fallback = ("# offline assets unavailable (no npm): MathJax, require.js and the widget manager come from CDNs\n"
                '    html_static_path: ["_assets"]')
    path.write_text(head + fallback + tail)
    return path


def main():
    if shutil.which("npm") is None:
        say("!! npm was not found: the book's pages will load MathJax, require.js and the ipywidgets manager "
            "from CDNs, so offline they show no typeset math and no widgets. Install Node.js/npm for offline pages.")
        print(cdn_config().relative_to(ROOT))
        return 0
    npm_install()
    stage()
    say(f"offline assets staged in {STAGE.relative_to(ROOT)} (pinned in package-lock.json)")
    print("_config.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
