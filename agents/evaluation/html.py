"""A self-contained HTML report: one file with inline CSS, JS, data and plot; no server, no network.

It shows the summary table, the plot, and a board replay (step through every move) of the best,
median and worst strategy, each beside its source. The URL hash drives it for scripted checks:
``#best=12`` opens the best replay at move 12; ``#click=best:next:5`` presses that replay's
"next" button five times through its real click handler.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict
from html import escape
from pathlib import Path

from strategy_gym.agents.evaluation.engine import EvaluationRun

MAX_FRAMES = 5000  # per replay; a longer game is cut (the page says so)
MAX_EXAMPLES = 3  # answer tasks: this many correct and this many wrong samples are shown


def write_html(run: EvaluationRun, summary: dict, png: Path | None, path: Path, title: str) -> Path:
    data = {"title": title, "summary": summary, "replays": _replays(run), "examples": _examples(run)}
    image = ""
    if png is not None and png.exists():
        image = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")
    # "</" inside a <script> block would end it early: JSON allows the escaped form.
    payload = json.dumps(data, default=repr).replace("</", "<\\/")
    page = PAGE.replace("{{TITLE}}", escape(title)).replace("{{IMAGE}}", image)
    page = page.replace("{{CSS}}", CSS).replace("{{JS}}", JS).replace("{{DATA}}", payload)
    path.write_text(page, encoding="utf-8")
    return path


def _replays(run: EvaluationRun) -> list[dict]:
    out = []
    for replay in run.replays:
        row = asdict(replay)
        if len(row["frames"]) > MAX_FRAMES:
            row["frames"] = row["frames"][:MAX_FRAMES]
            row["note"] = (row["note"] + f" (first {MAX_FRAMES} moves shown)").strip()
        out.append(row)
    return out


def _examples(run: EvaluationRun) -> list[dict]:
    """Answer tasks: a few correct and a few wrong completions with their question and verdict."""
    if run.strategy_task:
        return []
    units = [u for us in run.units.values() for u in us]
    right = [u for u in units if u.successes][:MAX_EXAMPLES]
    wrong = [u for u in units if not u.successes][:MAX_EXAMPLES]
    return [{"candidate": u.candidate, "unit": u.index, "seed": u.trials[0].seed,
             "question": u.context.get("question", ""), "gold": u.context.get("gold"),
             "completion": u.text, "outcome": u.trials[0].outcome, "success": bool(u.successes),
             "detail": u.trials[0].detail} for u in right + wrong]


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{TITLE}}</title>
<style>{{CSS}}</style></head>
<body>
<h1>{{TITLE}}</h1>
<p id="seeds"></p>
<section><h2>Summary</h2><div id="summary"></div><div id="passk"></div></section>
<section><h2>Plot</h2><img id="plot" alt="summary plot" src="{{IMAGE}}"></section>
<section id="replays"><h2>Replays</h2></section>
<section id="examples"></section>
<script id="data" type="application/json">{{DATA}}</script>
<script>{{JS}}</script>
</body></html>
"""

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.4em; }
table.grid { border-collapse: collapse; font-size: 0.9em; }
table.grid td, table.grid th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
table.grid th { background: #eee; }
img#plot { max-width: 100%; border: 1px solid #ddd; }
.replay { border: 1px solid #ccc; background: #fff; padding: 0.8em; margin: 1em 0; }
.replay .row { display: flex; gap: 1.5em; align-items: flex-start; flex-wrap: wrap; }
.board { border-collapse: separate; border-spacing: 4px; background: #bbada0; border-radius: 6px; }
.board td { width: 48px; height: 48px; text-align: center; font-weight: bold; font-size: 15px;
            border-radius: 4px; background: #cdc1b4; color: #222; }
.controls button { margin-right: 4px; }
.status { font-family: monospace; margin: 0.4em 0; }
pre.source { background: #f4f4f4; border: 1px solid #ddd; padding: 0.6em; max-height: 420px;
             overflow: auto; font-size: 12px; min-width: 320px; max-width: 640px; }
.ok { color: #1a7f37; } .bad { color: #b42318; }
"""

JS = r"""
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const PALETTE = ["#e74c3c", "#f1c40f", "#eee4da", "#ede0c8", "#f2b179", "#f59563", "#f67c5f",
  "#f65e3b", "#edcf72", "#edcc61", "#edc850", "#edc53f", "#edc22e", "#3c3a32", "#5b8def",
  "#2ecc71", "#9b59b6"];
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}
function pct(x) { return (100 * x).toFixed(1) + "%"; }
function colour(v) {
  if (typeof v !== "number" || v === 0) return null;
  const index = (v > 2 && Number.isInteger(Math.log2(v))) ? Math.log2(v) : v - 1;
  return PALETTE[Math.max(0, Math.min(PALETTE.length - 1, index))];
}
function table(headers, rows) {
  const t = el("table", null, "grid");
  const head = t.insertRow();
  headers.forEach(h => head.appendChild(el("th", h)));
  rows.forEach(r => { const tr = t.insertRow(); r.forEach(c => tr.insertCell().textContent = c); });
  return t;
}
function summary() {
  const s = DATA.summary;
  document.getElementById("seeds").textContent =
    "seeds " + s.seeds.name + " (" + s.seeds.count + "), task " + s.task.name + " (" + s.task.kind + ")";
  const names = Object.keys(s.strategies);
  const rows = names.map(n => {
    const x = s.strategies[n];
    return [n, x.units, x.games, pct(x.success_rate),
            "[" + pct(x.wilson95[0]) + ", " + pct(x.wilson95[1]) + "]", x.mean_score.toFixed(1),
            pct(x.format_rate), Object.entries(x.outcomes).map(e => e.join(":")).join(" ")];
  });
  document.getElementById("summary").appendChild(table(
    ["strategy", "samples", "trials", "success", "Wilson 95%", "mean score", "format", "outcomes"], rows));
  const ks = [...new Set(names.flatMap(n => Object.keys(s.strategies[n].pass.pass_at_k)))]
    .sort((a, b) => a - b);
  const passRows = names.map(n => {
    const p = s.strategies[n].pass;
    return [n, p.groups, p.samples_per_group,
            ...ks.map(k => k in p.pass_at_k ? pct(p.pass_at_k[k]) : ""),
            ...ks.map(k => k in p.pass_hat_k ? pct(p.pass_hat_k[k]) : "")];
  });
  const box = document.getElementById("passk");
  const rule = names.length ? s.strategies[names[0]].pass.rule : "";
  box.appendChild(el("p", "pass@k = 1 - C(n-c,k)/C(n,k), pass^k = C(c,k)/C(n,k); " + rule));
  box.appendChild(table(["strategy", "groups", "samples/group",
    ...ks.map(k => "pass@" + k), ...ks.map(k => "pass^" + k)], passRows));
}
function renderFrame(holder, frame) {
  holder.replaceChildren();
  if (Array.isArray(frame) && frame.every(r => Array.isArray(r))) {
    const t = el("table", null, "board");
    frame.forEach(r => {
      const tr = t.insertRow();
      r.forEach(v => {
        const td = tr.insertCell();
        td.textContent = v === 0 ? "" : String(v);
        const c = colour(v);
        if (c) td.style.background = c;
      });
    });
    holder.appendChild(t);
  } else {
    holder.appendChild(el("pre", JSON.stringify(frame, null, 1), "source"));
  }
}
const VIEWERS = {};
function replay(r) {
  const box = el("div", null, "replay");
  box.id = "replay-" + r.label;
  box.dataset.label = r.label;
  box.appendChild(el("h3", r.label + " strategy: " + r.candidate + " #" + r.unit + " (success " +
    pct(r.success_rate) + "), seed " + r.seed + ": " + r.outcome + ", score " + r.score));
  if (r.note) box.appendChild(el("p", r.note));
  const row = el("div", null, "row");
  const left = el("div");
  const controls = el("div", null, "controls");
  const status = el("div", null, "status");
  const holder = el("div", null, "frame");
  const slider = el("input");
  slider.type = "range"; slider.min = 0; slider.max = Math.max(0, r.frames.length - 1); slider.value = 0;
  const buttons = {};
  ["first", "prev", "next", "last"].forEach(name => {
    const b = el("button", {first: "|<", prev: "<", next: ">", last: ">|"}[name]);
    b.dataset.action = name;
    controls.appendChild(b);
    buttons[name] = b;
  });
  controls.appendChild(slider);
  left.append(controls, status, holder);
  const source = el("pre", r.source, "source");
  row.append(left, source);
  box.appendChild(row);
  let step = 0;
  function show(n) {
    step = Math.max(0, Math.min(r.frames.length - 1, n));
    slider.value = step;
    box.dataset.step = step;
    if (!r.frames.length) { status.textContent = "no moves recorded"; return; }
    const action = step < r.actions.length ? JSON.stringify(r.actions[step]) : "(end)";
    status.textContent = "move " + step + " / " + (r.frames.length - 1) + "   next action: " + action;
    renderFrame(holder, r.frames[step]);
  }
  buttons.first.onclick = () => show(0);
  buttons.prev.onclick = () => show(step - 1);
  buttons.next.onclick = () => show(step + 1);
  buttons.last.onclick = () => show(r.frames.length - 1);
  slider.oninput = () => show(Number(slider.value));
  show(0);
  VIEWERS[r.label] = {show: show, buttons: buttons};
  return box;
}
function examples() {
  if (!DATA.examples.length) return;
  const box = document.getElementById("examples");
  box.appendChild(el("h2", "Examples"));
  DATA.examples.forEach(x => {
    const d = el("div", null, "replay");
    d.appendChild(el("h3", x.candidate + " #" + x.unit + ", seed " + x.seed + ": " + x.outcome,
                     x.success ? "ok" : "bad"));
    d.appendChild(el("p", "question: " + x.question));
    d.appendChild(el("p", "expected: " + x.gold + "   got: " + JSON.stringify(x.detail.parsed ?? x.detail.predicted ?? null)));
    d.appendChild(el("pre", x.completion, "source"));
    box.appendChild(d);
  });
}
function applyHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [key, value] of params) {
    if (key === "click") {
      const [label, action, times] = value.split(":");
      const viewer = VIEWERS[label];
      for (let i = 0; viewer && i < Number(times || 1); i++) viewer.buttons[action].click();
    } else if (VIEWERS[key]) {
      VIEWERS[key].show(Number(value));
    }
  }
}
summary();
const replays = document.getElementById("replays");
if (!DATA.replays.length) replays.appendChild(el("p", "no board replays for this task"));
DATA.replays.forEach(r => replays.appendChild(replay(r)));
examples();
applyHash();
window.addEventListener("hashchange", applyHash);
document.body.dataset.ready = "1";
"""
