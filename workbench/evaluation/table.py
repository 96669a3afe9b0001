"""The table `workbench eval` prints: metrics per instruction, per-query ranks, comparisons."""

from __future__ import annotations

import typer

from .metrics import LEVELS


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def _p(value) -> str:
    return "n/a" if value is None else (f"{value:.3g}" if value >= 0.001 else "<0.001")


def _first_stage(row: dict) -> str | None:
    """What ranked a first-stage row (`eval --first-stage`): it has no model and no instruction."""
    from workbench.first_stage import DESCRIPTIONS

    method = row.get("first_stage")
    return f"first stage: {DESCRIPTIONS.get(method, method)}" if method else None


def _described(row: dict) -> str:
    return _first_stage(row) or (row["instruction"] if row["instruction"] is not None else "(default instruction)")


def print_report(data: dict, queries) -> None:
    for line in report_lines(data, queries):
        typer.echo(line)


def report_lines(data: dict, queries) -> list[str]:
    """The report as text lines (the CLI prints them; the app's query-set pane shows them)."""
    lines: list[str] = []
    echo = lines.append
    rows = data["instructions"]
    k = data["k"]
    model = data["model"]["id"]
    if data["model"]["fallback"] and "fallback" not in model.lower():
        model += " (offline fallback)"
    echo(f"model: {model}   k={k}   {data['queries']} queries")
    for r in rows:
        echo(f"  [{r['label']}] {_described(r)}")
    echo("")
    # Per query: the rank of the first relevant chunk under each instruction.
    width = max(5, *(len(q.id) for q in queries))
    cols = [max(6, len(r["label"])) for r in rows]
    echo(f"{'query':>{width}}  " + "  ".join(f"{r['label']:>{c}}" for r, c in zip(rows, cols)) + "  text")
    for q in queries:
        marks = []
        for r, c in zip(rows, cols):
            rank = r["per_query"][q.id]["first_relevant_chunk_rank"]
            marks.append(f"{'MISS' if rank is None else f'#{rank}':>{c}}")
        echo(f"{q.id:>{width}}  " + "  ".join(marks) + f"  {q.query[:60]}")
    echo("")
    names = list(rows[0]["metrics"]["chunk"])[:-1]  # the measures (the last key is "queries")
    label_w = max(11, *(len(r["label"]) for r in rows))
    short = {"chunk": "chunk", "document": "doc"}
    head = "  ".join(f"{short[lv]:>5} {m}" for lv in LEVELS for m in names)
    echo(f"{'instruction':<{label_w}}  {head}  hit@1  hit@5    MRR")
    for r in rows:
        cells = "  ".join(f"{_fmt(r['metrics'][lv][m]):>{len(m) + 6}}" for lv in LEVELS for m in names)
        echo(f"{r['label']:<{label_w}}  {cells}  {r['hit@1']:5.2f}  {r['hit@5']:5.2f}  {r['mrr']:5.3f}")
    counts = ", ".join(f"{rows[0]['metrics'][lv]['queries']} at {lv} level" for lv in LEVELS)
    echo(f"(means over the queries judged at each level: {counts}; hit@n and MRR: first relevant chunk, no cutoff)")
    shown = (f"nDCG@{k}",)
    if data["comparisons"]:
        echo("")
        for c in data["comparisons"]:
            if c["measure"] not in shown:
                continue
            delta = "-" if c["mean_difference"] is None else f"{c['mean_difference']:+.3f}"
            echo(f"{c['candidate']} vs {c['baseline']}, {c['level']} {c['measure']}: {c['wins']} wins, {c['losses']} losses, "
                 f"{c['ties']} ties over {c['queries']} queries; mean diff {delta}; "
                 f"paired t-test p={_p(c['t_test_p'])}, permutation p={_p(c['permutation_p'])}")
        if data["queries_with_own_instruction"]:
            echo(f"({data['queries_with_own_instruction']} queries bring their own instruction and score the same under "
                 "every instruction; --override-query-instructions judges them too)")
    for r in rows:
        echo(f"[{r['label']}] {_first_stage(r) or model}: hit@1 {r['hit@1']:.2f}  hit@5 {r['hit@5']:.2f}  MRR {r['mrr']:.3f}  "
             f"over {data['queries']} queries")
    return lines
