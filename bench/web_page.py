"""Web pages: file size and the browser's drawing time per frame of the animation player.

Pages from the shipped smiley model (flow, Heun) for several particle counts and 50 steps; the
frame time is measured inside headless chromium (playwright) as the median over 51 slider
positions of the player's own draw (particles + traces + density contours), with contours off too.
No chromium: sizes only.

    python bench/web_page.py
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import sandbox

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TIMING_JS = """(contours) => {
  const root = document.querySelector('.dsw');
  const box = root.querySelectorAll('input[type=checkbox]')[1];   // traces, contours, data
  if (box.checked !== contours) box.click();
  const times = [];
  for (let k = 0; k <= 50; k++) {
    const t0 = performance.now(); root.dsw.set(k / 50); times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[2000, 10000, 20000])
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    model = sandbox.shipped("smiley")
    exe = shutil.which("chromium")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for n in args.n:
            out = sandbox.animate(model, n, steps=args.steps).save(Path(tmp) / f"p{n}.html")
            pages.append((n, out))
        if exe:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=exe, args=FLAGS)
                for n, out in pages:
                    page = b.new_page(viewport={"width": 820, "height": 800})
                    page.goto(out.as_uri())
                    page.wait_for_selector("canvas")
                    on, off = page.evaluate(TIMING_JS, True), page.evaluate(TIMING_JS, False)
                    rows.append((n, out.stat().st_size, on, off))
                    page.close()
                b.close()
        else:
            rows = [(n, out.stat().st_size, float("nan"), float("nan")) for n, out in pages]
    print("| particles | steps | page size | draw, contours on | draw, contours off |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for n, size, on, off in rows:
        print(f"| {n} | {args.steps} | {size / 1e6:.2f} MB | {on:.1f} ms | {off:.1f} ms |")


if __name__ == "__main__":
    main()
