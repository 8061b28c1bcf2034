"""Look at the built documentation (and a Snakemake report) in a real browser: headless Chromium.

    python docs/check_browser.py                                  # docs/_build/html, key pages
    python docs/check_browser.py --report results/report.html     # and the workflow's report
    python docs/check_browser.py --all --out /tmp/shots           # every page of the site

Serves the site (and the report) on 127.0.0.1, loads each page in headless Chromium (Debian's
``chromium`` package; a fresh profile, no network beyond localhost, no sandbox so that it runs as
root) and

- takes a screenshot (PNG, into ``--out``) and fails a page that rendered blank (a screenshot of
  one colour, or a page without text);
- fails a page with an error the page itself could see: an uncaught exception, a rejected
  promise, ``console.error``, or a resource (script, style sheet, image) that did not load — the
  server injects a small script at the top of every HTML page it serves that records them into
  an attribute of the page, which Chromium's ``--dump-dom`` hands back — and any request the
  server answered with 404.

Exit status 0 when every page passed, 1 otherwise (a line per problem). Not part of CI (CI has no
Chromium); run it after ``make docs``, or as ``make docs-check``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SITE = DOCS / "_build" / "html"
#: the pages checked without --all: the front page and one of each kind
KEY_PAGES = [
    "index.html",
    "getting-started.html",
    "own-files.html",
    "command-line.html",
    "slurm.html",
    "configuration.html",
    "science.html",
    "results.html",
    "architecture.html",
    "api/index.html",
    "api/generated/ganplify.dctr.prdc.html",
]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
#: recorded into <html data-page-errors="[...]"> as they happen
PROBE = """<script>(function () {
  var errors = [];
  function note(text) {
    errors.push(String(text).slice(0, 300));
    document.documentElement.setAttribute("data-page-errors", JSON.stringify(errors));
  }
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { note("failed to load " + (t.src || t.href)); }
    else { note("uncaught " + (e.message || e)); }
  }, true);
  window.addEventListener("unhandledrejection", function (e) {
    note("unhandled rejection " + e.reason);
  });
  var original = console.error;
  console.error = function () {
    note("console.error " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
  document.documentElement.setAttribute("data-page-errors", "[]");
})();</script>"""


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files, injecting :data:`PROBE` into HTML pages; records 404s."""

    not_found: list[str] = []
    report: Path | None = None

    def log_message(self, *args) -> None:  # quiet
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404 and not self.path.endswith("favicon.ico"):
            self.not_found.append(self.path)
        super().send_error(code, message, explain)

    def do_GET(self):  # noqa: N802 - the http.server API
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == "/__report__.html" and self.report is not None:
            file = self.report
        else:
            file = Path(self.translate_path(path))
            if file.is_dir():
                file = file / "index.html"
        if file.suffix == ".html" and file.is_file():
            text = file.read_text(errors="replace")
            head = re.search(r"<head[^>]*>", text, flags=re.I)
            at = head.end() if head else 0
            body = (text[:at] + PROBE + text[at:]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def serve(site: Path, report: Path | None):
    handler = functools.partial(Handler, directory=str(site))
    Handler.report = report
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    sys.exit("no chromium on PATH: apt-get install chromium (Debian), then run again")


def _run(browser: str, profile: Path, args: list[str], timeout: int) -> subprocess.CompletedProcess:
    cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def blank(png: Path) -> bool:
    """Whether a screenshot shows one colour only."""
    import matplotlib.image

    pixels = matplotlib.image.imread(png)
    return bool(pixels.reshape(-1, pixels.shape[-1]).std(axis=0).max() < 1e-3)


def check_page(browser, profile, url: str, shot: Path, width: int, height: int, timeout: int):
    """Problems of one page (an empty list when it passed)."""
    problems = []
    dom = _run(browser, profile, ["--virtual-time-budget=5000", "--dump-dom", url], timeout)
    if dom.returncode != 0 or not dom.stdout.strip():
        return [f"chromium could not load it (exit {dom.returncode}): {dom.stderr[-300:]}"]
    found = re.search(r'data-page-errors="([^"]*)"', dom.stdout)
    if found is None:
        problems.append("the error probe did not run (JavaScript off, or the page replaced <html>)")
    else:
        errors = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
        problems += [f"page error: {e}" for e in errors]
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]+>", " ", dom.stdout, flags=re.S)
    if len(text.split()) < 20:
        problems.append(f"almost no text ({len(text.split())} words)")
    shot_run = _run(
        browser,
        profile,
        [f"--window-size={width},{height}", f"--screenshot={shot}", url],
        timeout,
    )
    if shot_run.returncode != 0 or not shot.exists():
        problems.append(f"no screenshot (exit {shot_run.returncode})")
    elif blank(shot):
        problems.append(f"blank screenshot {shot}")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--site", type=Path, default=SITE, help="the built HTML (default: %(default)s)")
    p.add_argument("--report", type=Path, help="a Snakemake report HTML to check as well")
    p.add_argument("--all", action="store_true", help="every page of the site, not the key ones")
    p.add_argument("--out", type=Path, default=DOCS / "_build" / "screenshots")
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=1600)
    p.add_argument("--timeout", type=int, default=90, help="seconds per Chromium call")
    args = p.parse_args(argv)
    if not (args.site / "index.html").exists():
        sys.exit(f"{args.site}: no index.html; build the site first (make docs)")
    pages = (
        sorted(
            str(x.relative_to(args.site))
            for x in args.site.rglob("*.html")
            if not str(x.relative_to(args.site)).startswith("_")  # the theme's _static templates
        )
        if args.all
        else [x for x in KEY_PAGES if (args.site / x).exists()]
    )
    missing = [x for x in KEY_PAGES if not (args.site / x).exists()] if not args.all else []
    browser = chromium()
    server = serve(args.site.resolve(), args.report.resolve() if args.report else None)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    targets = [(page, f"{base}/{page}") for page in pages]
    if args.report:
        targets.append((f"report:{args.report.name}", f"{base}/__report__.html"))
    args.out.mkdir(parents=True, exist_ok=True)
    failed = [f"{page}: missing from the site" for page in missing]
    n_failed = len(missing)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for page, url in targets:
            Handler.not_found.clear()
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", page.removesuffix(".html")) + ".png"
            shot = args.out / name
            problems = check_page(
                browser, Path(profile), url, shot, args.width, args.height, args.timeout
            )
            problems += [f"404 for {path}" for path in sorted(set(Handler.not_found))]
            status = "ok" if not problems else "FAILED"
            n_failed += bool(problems)
            print(f"{status:6} {page} -> {shot}")
            failed += [f"{page}: {problem}" for problem in problems]
    server.shutdown()
    for line in failed:
        print("  " + line)
    print(f"{len(targets) + len(missing) - n_failed} of {len(targets) + len(missing)} pages passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
