"""``docs/results.md`` from the results files: ``gnnkit results``.

The results the docs cite are data: ``docs/results/<section>.json`` is the ``results.json`` that
``gnnkit reproduce --out DIR`` wrote (it records the command line), and the optional
``docs/results/<section>.md`` beside it is that section's prose (it starts with the section's
``## `` heading: protocol, paper source, what differs). ``docs/results/_intro.md`` opens the
document. Sections come in file-name order. Each section prints its command, date and wall time,
then one table row per experiment and metric with its seeds and wall time. Re-running a
reproduction replaces its JSON file; superseded tables stay in git history, not in the document.

Example::

    gnnkit reproduce gcn-cora --seeds 10 --out /tmp/gcn && cp /tmp/gcn/results.json docs/results/10-gcn.json
    gnnkit results                      # rewrites docs/results.md
    gnnkit results --check              # exit 1 when docs/results.md is out of date
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from gnnkit.experiments.run import _pct, fmt_metric

HEADER = "| experiment | metric | ours (mean ± std) | runs | paper | difference | wall time |"


def _wall(seconds) -> str:
    if seconds is None:
        return "—"
    seconds = float(seconds)
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _rows(summary: list[dict]) -> list[str]:
    lines = [HEADER, "|---|---|---|---|---|---|---|"]
    for s in summary:
        if s["status"] != "ok":
            paper = _pct(s.get("paper")) + (f" ± {_pct(s['paper_std'])}" if s.get("paper_std") is not None else "")
            lines.append(f"| {s['experiment']} | {s['metric']} | {s['status']} | — | {paper} | — | — |")
            continue
        metrics = s.get("metrics") or {s["metric"]: s}
        for m, v in metrics.items():
            paper = fmt_metric(m, v.get("paper")) + (f" ± {fmt_metric(m, v['paper_std'])}"
                                                     if v.get("paper_std") is not None else "")
            diff = fmt_metric(m, v.get("difference"), signed=True)
            mean, std = v.get("mean"), v.get("std")
            ours = "—" if mean is None or (isinstance(mean, float) and math.isnan(mean)) else \
                f"{fmt_metric(m, mean)} ± {fmt_metric(m, std)}"
            lines.append(f"| {s['experiment']} | {m} | {ours} | {s.get('seeds', '—')} | {paper} | {diff} "
                         f"| {_wall(s.get('seconds'))} |")
    return lines


def section(json_path: Path) -> str:
    """One section: prose (or a heading from the file name), command, date, wall time, the table."""
    results = json.loads(json_path.read_text())
    prose_path = json_path.with_suffix(".md")
    prose = prose_path.read_text().strip() if prose_path.is_file() else f"## {json_path.stem}"
    if "summary" not in results:
        raise ValueError(f"{json_path}: not a results.json of `gnnkit reproduce` (no 'summary')")
    command = results.get("command") or "(command not recorded)"
    date = (results.get("date") or "")[:10]
    lines = [prose, "", "```", command, "```", "",
             f"Run on {date or 'an unrecorded date'}, {_wall(results.get('wall_seconds'))} wall time "
             f"(gnnkit {results.get('gnnkit_version', '?')}, torch {results.get('torch_version', '?')}).", ""]
    lines += _rows(results["summary"])
    return "\n".join(lines)


def render(folder: str | Path) -> str:
    """The whole document from ``folder``'s ``_intro.md`` and ``*.json`` (+ ``*.md``) files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"no results folder at {folder}; pass --dir DIR (the folder of results JSON files)")
    parts = []
    intro = folder / "_intro.md"
    if intro.is_file():
        parts.append(intro.read_text().strip())
    for path in sorted(folder.glob("*.json")):
        parts.append(section(path))
    return "\n\n".join(parts) + "\n"


def write(folder: str | Path, out: str | Path) -> Path:
    """Render ``folder`` into ``out`` atomically."""
    from gnnkit.train.checkpoint import _atomic

    text = render(folder)
    _atomic(Path(out), lambda f: f.write(text.encode()))
    return Path(out)
