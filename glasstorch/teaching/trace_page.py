"""A trace as one self-contained HTML page: the graph as SVG (laid out here, no Graphviz) beside the steps.

Clicking a step highlights its node and the edges its gradients flow along; the arrow keys step forward
and back. No network: the page carries its own CSS and script.
"""
import html
import json

from ..autograd.trace import describe, op_name

W, H, DX, DY = 150, 36, 170, 62


def layout(t):
    """Rows by depth: the leaves on top, the output at the bottom (the forward pass reads downwards, the
    backward walk climbs up); each row centred."""
    depth = {t.root: 0}
    for s in t.steps:  # topological: a node's consumers come before it, so depths are final when used
        for src, dst in t.edges:
            if dst == s.node_id:
                depth[src] = max(depth.get(src, 0), depth.get(dst, 0) + 1)
    ids = list(dict.fromkeys([s.node_id for s in t.steps] + [src for src, _ in t.edges]))
    deepest = max(depth.get(i, 0) for i in ids)
    rows = {}
    for i in ids:
        rows.setdefault(depth.get(i, 0), []).append(i)
    widest = max(len(r) for r in rows.values())
    pos = {}
    for d, row in rows.items():
        offset = (widest - len(row)) * DX / 2
        for k, i in enumerate(row):
            pos[i] = (20 + offset + k * DX, 20 + (deepest - d) * DY)
    return pos, widest, deepest + 1


def render(t, title="glasstorch trace"):
    pos, ncols, nrows = layout(t)
    op_of = {s.node_id: s.op for s in t.steps}
    parts = [f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{40 + (ncols - 1) * DX + W}" '
             f'height="{40 + nrows * DY}"><defs><marker id="arrow" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" refX="9" '
             f'refY="4.5" orient="auto"><path d="M0,0 L9,4.5 L0,9 z" fill="#888"/></marker></defs>']
    for k, (src, dst) in enumerate(dict.fromkeys(t.edges)):
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        parts.append(f'<line class="edge" id="e-{src}-{dst}" x1="{x1 + W / 2}" y1="{y1 + H}" x2="{x2 + W / 2}" '
                     f'y2="{y2}" marker-end="url(#arrow)"/>')
    for i, (x, y) in pos.items():
        kind = "op" if i in op_of else "leaf"
        label = t.labels.get(i, i)
        text = op_name(op_of.get(i, ""))
        line1 = html.escape(label if kind == "leaf" else f"{label} = {text}")
        parts.append(f'<g class="node {kind}" id="{i}"><rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6"/>'
                     f'<text x="{x + W / 2}" y="{y + H / 2 + 5}">{line1}</text></g>')
    parts.append("</svg>")
    steps = []
    for s in t.steps:
        sent = "".join(f"<div>&rarr; dL/d{html.escape(x.target)} {'+=' if x.accumulates else '='} "
                       f"<code>{html.escape(describe(x.grad))}</code></div>" for x in s.sent)
        ins = ", ".join(f"{html.escape(label)} {tuple(shape)}" for label, shape, _ in s.inputs)
        steps.append(f'<li class="step" data-node="{s.node_id}" data-targets="{" ".join(x.target_id for x in s.sent)}">'
                     f'<b>step {s.index}: {html.escape(s.op)}</b> ({html.escape(s.output)} from {ins})'
                     f'<div class="math">{html.escape(s.math)}</div>'
                     f'<div>upstream dL/d{html.escape(s.output)} = <code>{html.escape(describe(s.upstream))}</code></div>'
                     f'{sent}</li>')
    grads = "".join(f"<div><code>{html.escape(label)}.grad = {html.escape('None' if g is None else describe(g))}"
                    f"</code></div>" for label, g in t.leaves.values())
    return PAGE.replace("{title}", html.escape(title)).replace("{svg}", "".join(parts)).replace(
        "{steps}", "".join(steps)).replace("{grads}", grads).replace("{count}", json.dumps(len(t.steps)))


PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body { font-family: sans-serif; margin: 0; display: flex; height: 100vh; }
#left { flex: 1; min-width: 0; overflow: auto; padding: 12px; border-right: 1px solid #ccc; }
#right { width: 46%; overflow: auto; padding: 12px; }
.node rect { fill: #eef3fb; stroke: #6b8fc9; stroke-width: 1.5; }
.node.leaf rect { fill: #f4f4f4; stroke: #999; }
.node text { font-size: 12px; text-anchor: middle; font-family: monospace; }
.node.active rect { fill: #ffd966; stroke: #c08000; stroke-width: 3; }
.node.target rect { fill: #d9f2d9; stroke: #3a9a3a; stroke-width: 2.5; }
.edge { stroke: #888; stroke-width: 1.5; }
.edge.active { stroke: #c08000; stroke-width: 3.5; }
.step { list-style: none; border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; margin: 6px 0; cursor: pointer; }
.step.active { background: #fff5d6; border-color: #c08000; }
.math { font-family: monospace; color: #444; margin: 2px 0; }
code { font-size: 12px; }
ol { padding: 0; }
</style></head>
<body><div id="left"><h3>{title}</h3>{svg}<p>Click a step, or use the arrow keys. Yellow: the node whose
backward runs; green: the inputs it sends gradients to.</p></div>
<div id="right"><ol id="steps">{steps}</ol>{grads}</div>
<script>
var steps = document.querySelectorAll('.step'), current = -1, count = {count};
function select(i) {
  if (i < 0 || i >= count) return;
  current = i;
  document.querySelectorAll('.active, .target').forEach(function (e) { e.classList.remove('active', 'target'); });
  var s = steps[i], node = s.dataset.node;
  s.classList.add('active');
  document.getElementById(node).classList.add('active');
  s.dataset.targets.split(' ').filter(Boolean).forEach(function (t) {
    document.getElementById(t).classList.add('target');
    var e = document.getElementById('e-' + t + '-' + node);
    if (e) e.classList.add('active');
  });
  s.scrollIntoView({block: 'nearest'});
  document.getElementById(node).scrollIntoView({block: 'nearest', inline: 'nearest'});
}
steps.forEach(function (s, i) { s.addEventListener('click', function () { select(i); }); });
document.addEventListener('keydown', function (e) {
  if (e.key === 'ArrowDown' || e.key === 'ArrowRight') { select(current + 1); e.preventDefault(); }
  if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') { select(current - 1); e.preventDefault(); }
});
select(0);
</script></body></html>
"""
