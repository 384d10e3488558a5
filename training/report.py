"""report.md: the playbook's experiment template filled from the run's own files and numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from strategy_gym.training.evaluation import EvalResult, lift
from strategy_gym.training.smoke import SmokeVerdict


@dataclass
class ReportInputs:
    goal: str
    model_lines: list[str]
    data_lines: list[str]
    reward_names: list[str]
    reward_lines: list[str]
    config_yaml: str
    evals: dict[str, EvalResult]
    steps: list[dict]
    smoke: SmokeVerdict
    preflight_lines: list[str]
    timings: dict[str, float]
    interrupted: bool = False
    artefacts: list[str] = field(default_factory=list)
    device: str = "cpu"


def write_report(inputs: ReportInputs, run_dir: Path) -> Path:
    sections = [
        "# GRPO run report", "",
        "## Goal", inputs.goal, "",
        "## Model", *_bullets(inputs.model_lines), "",
        "## Data", *_bullets(inputs.data_lines), "",
        "## Rewards", *_bullets(inputs.reward_lines), "",
        "## Preflight", *_bullets(inputs.preflight_lines), "",
        "## Config", "```yaml", inputs.config_yaml.rstrip(), "```", "",
        "## Results", *results_table(inputs.evals), "",
        "## What this run shows and does not show",
        *_bullets(shows_and_not(inputs.evals, inputs.steps, inputs.device)), "",
        *training_summary(inputs.steps, inputs.smoke, inputs.interrupted, inputs.timings), "",
        "## Observed failure modes", *_bullets(failure_modes(inputs)), "",
        "## Side-by-side samples", *side_by_side(inputs.evals), "",
        "## Next change", next_change(inputs), "",
        "## Artefacts", *_bullets(inputs.artefacts), "",
    ]
    path = run_dir / "report.md"
    path.write_text("\n".join(sections) + "\n")
    return path


def _bullets(lines: Sequence[str]) -> list[str]:
    return [f"- {line}" for line in lines] or ["- (none)"]


def _pct(rate: dict) -> str:
    return f"{rate['rate']:.0%} ({rate['count']}/{rate['n']}, 95% CI {rate['low']:.0%}-{rate['high']:.0%})"


def results_table(evals: dict[str, EvalResult]) -> list[str]:
    if not evals:
        return ["No evaluation ran."]
    lines = ["| phase | format rate | success rate (score >= 0.5) | mean score | mean length | "
             "truncated | outcomes |", "|---|---|---|---|---|---|---|"]
    for phase, result in evals.items():
        s = result.summary
        outcomes = ", ".join(f"{k}: {v}" for k, v in s["outcomes"].items())
        lines.append(f"| {phase} | {_pct(s['format'])} | {_pct(s['success'])} | "
                     f"{s['mean_score']:.3f} | {s['length']['mean']:.0f} | "
                     f"{s['anomalies']['truncated']}/{s['n']} | {outcomes} |")
    if any("games" in r.summary for r in evals.values()):
        lines += ["", "| phase | games won (all seeds, 95% CI over games) | mean best tile |",
                  "|---|---|---|"]
        lines += [f"| {phase} | {_pct(r.summary['games'])} | {r.summary['mean_best_tile']:.0f} |"
                  for phase, r in evals.items() if "games" in r.summary]
    if "before" in evals and "after" in evals:
        delta = (evals["after"].summary["format"]["rate"]
                 - evals["before"].summary["format"]["rate"])
        lines += ["", f"Format rate change before -> after: {delta:+.0%}."]
    if "after_priming" in evals and "after" in evals:
        change = lift(evals["after_priming"].summary, evals["after"].summary)
        lines += ["", f"Success after priming -> after GRPO: {change['points']:+.1f} points "
                  f"({'disjoint' if change['disjoint'] else 'overlapping'} 95% intervals: "
                  + ("a change the evaluation can see" if change["disjoint"] else
                     "not distinguishable from sampling noise at this eval size") + ")."]
    return lines


def shows_and_not(evals: dict[str, EvalResult], steps: list[dict], device: str) -> list[str]:
    """What this run's numbers do and do not show, in plain words."""
    n = max((r.summary["n"] for r in evals.values()), default=0)
    lines = []
    if "after_priming" in evals and "after" in evals:
        change = lift(evals["after_priming"].summary, evals["after"].summary)
        if change["disjoint"] and change["points"] > 0:
            lines.append(f"GRPO raised the success rate by {change['points']:.1f} points over "
                         f"the primed model on {n} sampled strategies, with disjoint 95% "
                         "intervals: an RL effect, measured on the task's assess seeds.")
        else:
            lines.append(f"No GRPO effect is shown: {change['points']:+.1f} points on {n} "
                         "strategies, intervals overlap.")
    lines.append("Priming alone moves the format rate (SFT on demonstrations); compare the "
                 "after-priming row with the demonstrations' own strength before crediting RL.")
    if device == "cpu" or n < 64:
        lines.append(f"This is a pipeline demonstration ({len(steps)} GRPO steps, {n} eval "
                     "prompts, device " + device + "): it shows every stage runs and leaves its "
                     "artefacts, not a learning effect. The GPU proof is "
                     "`python train_env.py +experiment=smollm2-2048-gpu run.dir=DIR "
                     "run.resume=true` (repeat until max_steps).")
    return lines


def training_summary(steps: list[dict], smoke: SmokeVerdict, interrupted: bool,
                     timings: dict[str, float]) -> list[str]:
    lines = ["## Training"]
    if steps:
        first, last = steps[0], steps[-1]
        mean_time = sum(r["step_seconds"] for r in steps) / len(steps)
        lines += [f"- GRPO steps logged: {len(steps)} (last step {last['step']}), "
                  f"{mean_time:.1f} s/step on average",
                  f"- reward: first {first['reward']:.3f} ± {first['reward_std'] or 0:.3f}, "
                  f"last {last['reward']:.3f} ± {last['reward_std'] or 0:.3f}, "
                  f"best {max(r['reward'] for r in steps):.3f}"]
    else:
        lines.append("- no GRPO step was logged")
    lines += play_summary(steps)
    lines.append(f"- smoke phase: {'passed' if smoke.ok else 'STOPPED: ' + smoke.diagnosis}")
    if interrupted:
        lines.append("- the run was interrupted (Ctrl-C); adapter saved at the interruption")
    lines += [f"- time {name}: {seconds:.0f} s" for name, seconds in timings.items()]
    return lines


def play_summary(steps: list[dict]) -> list[str]:
    """Play mode's game numbers from the step log: wins over the played seeds, invalid moves,
    turns per episode (each step plays one game per rollout; a group shares its seed)."""
    rows = [r for r in steps if r.get("play/success_rate") is not None]
    if not rows:
        return []
    outcomes = _summed(rows, "outcomes")
    games = sum(outcomes.values())
    seeds = sum(int(r.get("play/seeds") or 0) for r in rows)
    first, last = rows[0], rows[-1]
    return [
        f"- play: {outcomes.get('success', 0)}/{games} games won on {seeds} seeds "
        f"(success rate first step {first['play/success_rate']:.0%}, last "
        f"{last['play/success_rate']:.0%}); outcomes: {_counts(outcomes)}",
        f"- invalid moves: {first['play/invalid_move_rate']:.0%} of turns at the first step, "
        f"{last['play/invalid_move_rate']:.0%} at the last",
        f"- turns per episode: {first['play/turns_per_episode']:.1f} at the first step, "
        f"{last['play/turns_per_episode']:.1f} at the last",
    ]


def failure_modes(inputs: ReportInputs) -> list[str]:
    """Evidence-backed observations from the last evaluation and the step log."""
    notes = []
    last = list(inputs.evals.values())[-1] if inputs.evals else None
    if last is not None:
        s = last.summary
        for outcome, count in s["outcomes"].items():
            if outcome != "ok":
                example = _example(last, outcome)
                notes.append(f"{last.phase}: {count}/{s['n']} completions ended as `{outcome}`"
                             + (f", e.g. `{example}`" if example else ""))
        a = s["anomalies"]
        for key in ("truncated", "empty", "very_short", "repetitive"):
            if a[key]:
                notes.append(f"{last.phase}: {a[key]}/{s['n']} completions {key.replace('_', ' ')}"
                             + (f" (hit the {a['limit']}-token limit)" if key == "truncated" else ""))
    if inputs.steps:
        zero = [r["step"] for r in inputs.steps if (r.get("frac_reward_zero_std") or 0) >= 1]
        if zero:
            notes.append(f"steps with no reward variance in any group: {zero[:12]}")
        outcome_totals = _summed(inputs.steps, "outcomes")
        if outcome_totals:
            notes.append("sandbox outcomes during training: " + _counts(outcome_totals))
        format_totals = _summed(inputs.steps, "format_outcomes")
        if format_totals:
            notes.append("contract verdicts on training completions: " + _counts(format_totals))
    if not inputs.smoke.ok:
        notes.append(f"smoke phase stopped training: {inputs.smoke.diagnosis}")
    return notes


def _counts(totals: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(totals.items(), key=lambda kv: -kv[1]))


def _example(result: EvalResult, outcome: str) -> str:
    for g, a in zip(result.generated, result.assessments, strict=True):
        if a.outcome == outcome:
            return " ".join(g.text.split())[:100].replace("`", "'")
    return ""


def side_by_side(evals: dict[str, EvalResult], count: int = 2) -> list[str]:
    if not evals:
        return ["(no evaluation)"]
    lines = []
    n = min(count, min(len(r.generated) for r in evals.values()))
    for i in range(n):
        lines.append(f"### Prompt {i}")
        for phase, result in evals.items():
            a = result.assessments[i]
            lines += [f"**{phase}** (format {'ok' if a.format_ok else 'no'}, score {a.score:.2f}, "
                      f"{a.outcome}):", "```", result.generated[i].text.strip()[:1200], "```"]
    return lines


def next_change(inputs: ReportInputs) -> str:
    """One change for the next loop (the playbook: one big variable at a time)."""
    if not inputs.smoke.ok:
        return f"Fix the reward signal before anything else: {inputs.smoke.diagnosis}."
    after = inputs.evals.get("after") or (list(inputs.evals.values())[-1] if inputs.evals else None)
    if after is None:
        return "Run to completion to get an evaluation."
    s = after.summary
    if s["format"]["rate"] < 0.5:
        return ("Format is still below 50%: more format priming (trainer.priming.steps, "
                "env.demonstrations) before raising GRPO steps.")
    if s["anomalies"]["truncated"] > s["n"] // 4:
        return ("Many completions hit the token limit: raise trainer.max_completion_length or "
                "add a length penalty.")
    if s["success"]["rate"] < 0.5:
        return ("Format is learned but answers/strategies fail: weight correctness higher "
                "(a shaped reward preset) and raise trainer.max_steps.")
    return "Rewards hold and the format is stable: raise trainer.max_steps and num_generations."


def _summed(steps: list[dict], key: str) -> dict[str, int]:
    """Per-step count mappings under ``key`` added up over the run."""
    totals: dict[str, int] = {}
    for row in steps:
        for name, count in (row.get(key) or {}).items():
            totals[name] = totals.get(name, 0) + count
    return totals
