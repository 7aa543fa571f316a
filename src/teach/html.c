/* html.c - the tape as one self-contained web page: the graph (inline SVG, laid out here from
 * the tape's order), the Wengert table, and controls that step through the forward replay and
 * the reverse sweep, showing each step's rule with labels and with the numbers, and what it
 * added to each input's adjoint.
 *
 * The reverse sweep's numbers are the trace's: the page runs the sweep once from the loss with
 * its own trace writer (page_step below), which receives the same wg_step_terms the text trace
 * prints (print.c). Numbers go into the page's data with %.17g (they read back to the same
 * doubles); the page shows them as the other printers do (4 significant digits, "min .. mean
 * .. max .." above WG_PRINT_FULL_MAX elements, where only the summary is embedded).
 *
 * Layout: a leaf is one layer above its first consumer, an op one layer below its deepest
 * input; within a layer, rows keep the tape's order. Layer L is drawn at y = L * ROW_GAP. */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "tape/alloc.h"
#include "tape/tape.h"
#include "teach/trace.h"

#define TEXT 1024        /* bytes for one rule or matrix text (longer text is cut) */
#define LABEL (WG_NAME_MAX + 16)
#define NODE_W 164       /* graph node box, pixels */
#define NODE_H 50
#define COL_GAP 16
#define ROW_GAP 84
#define LABEL_CHARS 18   /* longer labels are cut in the graph (the table has them whole) */

/* ---- escaping ----------------------------------------------------------------------------- */

static void html_text(FILE *f, const char *s) {
  for (; *s; s++) {
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
  }
}

/* A JavaScript string literal; <, > and & escaped too, so no text can close the script. */
static void js_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void js_number(FILE *f, double x) {
  if (isnan(x)) fputs("NaN", f);
  else if (isinf(x)) fputs(x > 0 ? "Infinity" : "-Infinity", f);
  else fprintf(f, "%.17g", x);
}

/* A matrix for the page's data: null, every element when small, else its summary. */
static void js_matrix(FILE *f, const wg_real *x, int rows, int cols) {
  size_t n = (size_t)rows * (size_t)cols;
  if (!x || n == 0) {
    fputs("null", f);
    return;
  }
  if (n > WG_PRINT_FULL_MAX) {
    double lo, mean, hi;
    wg_matrix_summary(x, n, &lo, &mean, &hi);
    fputs("{min:", f), js_number(f, lo);
    fputs(",mean:", f), js_number(f, mean);
    fputs(",max:", f), js_number(f, hi);
    fputs("}", f);
    return;
  }
  fputc('[', f);
  for (size_t i = 0; i < n; i++) {
    if (i) fputc(',', f);
    js_number(f, x[i]);
  }
  fputc(']', f);
}

/* ---- the loss, and the sweep with the page as its trace writer ----------------------------- */

/* The row the page sweeps back from: the last 1x1 row that needs a gradient and that no later
 * row uses; UINT32_MAX when there is none. */
static uint32_t find_loss(const wg_tape *t) {
  for (uint32_t i = t->n_rows; i-- > 0;) {
    const wg_row *r = &t->rows[i];
    if (r->rows != 1 || r->cols != 1 || !r->needs_grad) continue;
    int used = 0;
    for (uint32_t j = i + 1; j < t->n_rows && !used; j++)
      for (uint32_t k = 0; k < t->rows[j].n_in; k++)
        if (t->rows[j].in[k] == i) used = 1;
    if (!used) return i;
  }
  return UINT32_MAX;
}

/* The trace writer: one S.push({...}) line per step of the sweep. */
static void page_step(wg_tape *t, const wg_step_terms *s) {
  FILE *f = t->trace;
  char text[TEXT];
  fprintf(f, "S.push({r:%u,t:[", (unsigned)s->row);
  for (int k = 0; k < s->n_terms; k++) {
    const wg_term *g = &s->term[k];
    fprintf(f, "%s{k:%d,to:%u,dup:%d,skip:%d,rule:", k ? "," : "", g->k, (unsigned)g->target,
            g->dup, g->after ? 0 : 1);
    js_string(f, wg_term_rule(text, sizeof text, t, s, k, 0));
    fputs(",vals:", f);
    js_string(f, wg_term_rule(text, sizeof text, t, s, k, 1));
    fputs(",d:", f);
    js_matrix(f, g->delta, g->rows, g->cols);
    fputs(",a:", f);
    js_matrix(f, g->delta ? g->after : NULL, g->rows, g->cols);
    fprintf(f, ",shape:[%d,%d]}", g->rows, g->cols);
  }
  fputs("]});\n", f);
}

/* The parameters' gradients while the page sweeps: kept aside, zeroed (so what the sweep adds
 * to a gradient is that step's term alone), and put back afterwards. */
typedef struct {
  wg_real *saved;
  size_t total;
} grads_aside;

static size_t param_size(const wg_row *r) {
  return r->op == WG_OP_PARAM && r->ptr ? wg_row_size(r) : 0;
}

static int grads_put_aside(wg_tape *t, grads_aside *g) {
  g->total = 0;
  for (uint32_t i = 0; i < t->n_rows; i++) g->total += param_size(&t->rows[i]);
  g->saved = g->total ? wg_alloc(g->total * sizeof *g->saved) : NULL;
  if (g->total && !g->saved) {
    wg_fail(t, WG_ERR_NOMEM, "html: out of memory for %zu bytes to keep the parameters' "
            "gradients", g->total * sizeof *g->saved);
    return 0;
  }
  size_t off = 0;
  for (uint32_t i = 0; i < t->n_rows; i++) {
    size_t n = param_size(&t->rows[i]);
    if (!n) continue;
    wg_real *grad = ((wg_param *)t->rows[i].ptr)->grad;
    memcpy(g->saved + off, grad, n * sizeof *grad);
    off += n;
  }
  for (uint32_t i = 0; i < t->n_rows; i++) {
    size_t n = param_size(&t->rows[i]);
    if (n) memset(((wg_param *)t->rows[i].ptr)->grad, 0, n * sizeof(wg_real));
  }
  return 1;
}

static void grads_put_back(wg_tape *t, grads_aside *g) {
  size_t off = g->total; /* backwards, so a parameter used twice ends with its first copy */
  for (uint32_t i = t->n_rows; i-- > 0;) {
    size_t n = param_size(&t->rows[i]);
    if (!n) continue;
    off -= n;
    memcpy(((wg_param *)t->rows[i].ptr)->grad, g->saved + off, n * sizeof(wg_real));
  }
  wg_free(g->saved, g->total * sizeof *g->saved);
}

/* Run the reverse sweep from the loss with the page as the trace writer. */
static void sweep_into_page(wg_tape *t, FILE *f, uint32_t loss) {
  grads_aside g;
  if (!wg_live(t) || loss == UINT32_MAX || !grads_put_aside(t, &g)) return;
  FILE *trace = t->trace;
  void (*writer)(wg_tape *, const wg_step_terms *) = t->trace_writer;
  t->trace = f, t->trace_writer = page_step;
  wg_backward(t, wg_handle(t, loss));
  t->trace = trace, t->trace_writer = writer;
  grads_put_back(t, &g);
}

/* ---- the graph ----------------------------------------------------------------------------- */

/* layer[i] and slot[i] (position within the layer) of every row; width[L] rows in layer L.
 * One block of 3 n ints; NULL when out of memory. */
static int *layout(const wg_tape *t, int *n_layers) {
  uint32_t n = t->n_rows;
  int *layer = wg_alloc_zero(3 * (size_t)n * sizeof *layer), *slot = layer + n, *width = slot + n;
  if (!layer) return NULL;
  for (uint32_t i = 0; i < n; i++) /* ops: below their deepest input (leaves at 0 for now) */
    for (uint32_t k = 0; k < t->rows[i].n_in; k++)
      if (layer[t->rows[i].in[k]] + 1 > layer[i]) layer[i] = layer[t->rows[i].in[k]] + 1;
  for (uint32_t i = 0; i < n; i++) { /* leaves: just above their first consumer */
    if (t->rows[i].n_in) continue;
    int lowest = -1;
    for (uint32_t j = i + 1; j < n; j++)
      for (uint32_t k = 0; k < t->rows[j].n_in; k++)
        if (t->rows[j].in[k] == i && (lowest < 0 || layer[j] - 1 < lowest)) lowest = layer[j] - 1;
    layer[i] = lowest > 0 ? lowest : 0;
  }
  *n_layers = 0;
  for (uint32_t i = 0; i < n; i++) {
    slot[i] = width[layer[i]]++;
    if (layer[i] + 1 > *n_layers) *n_layers = layer[i] + 1;
  }
  return layer;
}

static void node_xy(const int *lay, uint32_t n, int widest, uint32_t i, int *x, int *y) {
  const int *slot = lay + n, *width = slot + n;
  int span = NODE_W + COL_GAP;
  *x = COL_GAP + (widest - width[lay[i]]) * span / 2 + slot[i] * span;
  *y = 12 + lay[i] * ROW_GAP;
}

static const char *node_kind(const wg_row *r) {
  return r->op == WG_OP_INPUT || r->op == WG_OP_SCALAR ? "leaf" : r->op == WG_OP_PARAM ? "param" : "op";
}

/* The graph from a layout (NULL: out of memory, a note instead). */
static void write_graph(const wg_tape *t, FILE *f, const int *lay, int n_layers) {
  uint32_t n = t->n_rows;
  if (n && !lay) {
    fputs("<p class=\"error\">no graph: out of memory for its layout</p>\n", f);
    return;
  }
  int widest = 1;
  for (int L = 0; L < n_layers; L++)
    if (lay[2 * n + (uint32_t)L] > widest) widest = lay[2 * n + (uint32_t)L];
  int w = 2 * COL_GAP + widest * (NODE_W + COL_GAP), h = 24 + n_layers * ROW_GAP;
  fprintf(f, "<svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "viewBox=\"0 0 %d %d\">\n<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" "
             "refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 "
             "L0,10 z\" fill=\"#666\"/></marker></defs>\n", w, h, w, h);
  for (uint32_t i = 0; i < n; i++) { /* edges first, under the nodes */
    const wg_row *r = &t->rows[i];
    int x1, y1, x0, y0;
    node_xy(lay, n, widest, i, &x1, &y1);
    for (uint32_t k = 0; k < r->n_in; k++) {
      node_xy(lay, n, widest, r->in[k], &x0, &y0);
      int ax = x0 + NODE_W / 2, ay = y0 + NODE_H, bx = x1 + NODE_W / 2, by = y1;
      fprintf(f, "<path class=\"edge e%u e%u\" d=\"M%d,%d C%d,%d %d,%d %d,%d\"/>\n",
              (unsigned)r->in[k], (unsigned)i, ax, ay, ax, ay + ROW_GAP / 2, bx, by - ROW_GAP / 2,
              bx, by);
    }
  }
  char lab[LABEL];
  for (uint32_t i = 0; i < n; i++) {
    const wg_row *r = &t->rows[i];
    int x, y;
    node_xy(lay, n, widest, i, &x, &y);
    wg_row_label(t, i, lab, sizeof lab);
    fprintf(f, "<g class=\"node %s\" id=\"n%u\" data-x=\"%d\" data-y=\"%d\" "
               "transform=\"translate(%d,%d)\"><title>v%u ", node_kind(r), (unsigned)i, x, y, x, y,
            (unsigned)i);
    html_text(f, lab);
    fprintf(f, "</title><rect width=\"%d\" height=\"%d\" rx=\"%d\"/><text x=\"%d\" y=\"14\" "
               "class=\"lab\">", NODE_W, NODE_H, r->n_in ? 14 : 3, NODE_W / 2);
    if (strlen(lab) > LABEL_CHARS) strcpy(lab + LABEL_CHARS - 2, "..");
    html_text(f, lab);
    fprintf(f, "</text><text x=\"%d\" y=\"28\">", NODE_W / 2);
    html_text(f, wg_row_op_name(r));
    fprintf(f, " %dx%d</text><text x=\"%d\" y=\"43\" class=\"gadj\" id=\"g%u\"></text></g>\n",
            r->rows, r->cols, NODE_W / 2, (unsigned)i);
  }
  fputs("</svg>\n", f);
}

/* ---- the table and the rows' data ----------------------------------------------------------- */

static void write_table(const wg_tape *t, FILE *f) {
  char lab[LABEL], text[TEXT];
  fputs("<table id=\"table\"><thead><tr><th>row</th><th>name</th><th>op</th><th>inputs</th>"
        "<th>shape</th><th>value</th><th>adjoint</th></tr></thead><tbody>\n", f);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    fprintf(f, "<tr id=\"r%u\" class=\"%s\"><td>v%u</td><td>", (unsigned)i, node_kind(r),
            (unsigned)i);
    html_text(f, r->name ? r->name : "");
    fputs("</td><td>", f);
    html_text(f, wg_row_op_name(r));
    fputs("</td><td>", f);
    for (uint32_t k = 0; k < r->n_in; k++) {
      fputs(k ? ", " : "", f);
      html_text(f, wg_row_label(t, r->in[k], lab, sizeof lab));
    }
    fprintf(f, "</td><td>%dx%d</td><td class=\"val\">", r->rows, r->cols);
    html_text(f, wg_matrix_text(text, sizeof text, r->val, r->rows, r->cols));
    fprintf(f, "</td><td class=\"adj\" id=\"adj%u\"></td></tr>\n", (unsigned)i);
  }
  fputs("</tbody></table>\n", f);
}

/* R[i]: what the page's script needs of row i (labels, rules, whether it needs a gradient). */
static void write_rows_data(const wg_tape *t, FILE *f) {
  char text[TEXT];
  fputs("const R = [\n", f);
  for (uint32_t i = 0; i < t->n_rows; i++) {
    const wg_row *r = &t->rows[i];
    fputs("{l:", f);
    js_string(f, wg_row_label(t, i, text, sizeof text));
    fputs(",op:", f);
    js_string(f, wg_row_op_name(r));
    fputs(",in:[", f);
    for (uint32_t k = 0; k < r->n_in; k++) fprintf(f, "%s%u", k ? "," : "", (unsigned)r->in[k]);
    fprintf(f, "],shape:[%d,%d],g:%d,fwd:", r->rows, r->cols, r->needs_grad);
    js_string(f, wg_forward_rule(text, sizeof text, t, i, 0));
    fputs(",fwdv:", f);
    js_string(f, wg_forward_rule(text, sizeof text, t, i, 1));
    fputs(",vjp:", f);
    js_string(f, r->op < WG_OP_COUNT ? wg_ops[r->op].vjp_rule : "");
    fputs(",v:", f);
    js_matrix(f, r->val, r->rows, r->cols);
    fputs("},\n", f);
  }
  fputs("];\n", f);
}

/* ---- the page ------------------------------------------------------------------------------ */

static const char page_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:12px;color:#222}\n"
    "h1{font-size:18px;margin:0 0 4px}\n"
    "code,td,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}\n"
    ".error{color:#b00020;font-weight:bold}\n"
    "#controls{margin:8px 0;display:flex;gap:6px;align-items:center;flex-wrap:wrap}\n"
    "#controls button{font-size:14px;padding:3px 10px}\n"
    "#controls button.on{background:#333;color:#fff}\n"
    "#panel{border:1px solid #ccc;border-radius:6px;padding:8px 12px;background:#fbfbf5}\n"
    "#panel h2{font-size:16px;margin:0 0 4px}\n"
    "#terms{margin:4px 0;padding-left:18px}#terms li{margin:4px 0}\n"
    ".vals{color:#555}.added{color:#0a6b2e;font-weight:bold}.skip{color:#888}\n"
    "#views{display:flex;gap:12px;margin-top:10px;align-items:flex-start}\n"
    "#graphbox{flex:0 1 auto;max-width:50%;max-height:80vh;overflow:auto;border:1px solid #ddd;"
    "position:relative}\n"
    "#tablebox{flex:1 1 auto;max-height:80vh;overflow:auto;border:1px solid #ddd;position:relative}\n"
    "table{border-collapse:collapse}th{position:sticky;top:0;background:#eee;text-align:left}\n"
    "th,td{padding:2px 8px;border-bottom:1px solid #eee;white-space:nowrap}\n"
    "tr.cur td{background:#ffe98a}tr.hit td{background:#c9f2d0}tr.future .val{visibility:hidden}\n"
    "td.adj{color:#0a4f8a}\n"
    ".node rect{stroke:#555;stroke-width:1;fill:#cfe3ff}.node.leaf rect{fill:#e6e6e6}\n"
    ".node.param rect{fill:#ffd58a;stroke-width:2}.node text{font:11px sans-serif;"
    "text-anchor:middle}.node .lab{font-weight:bold}.node .gadj{fill:#0a4f8a}\n"
    ".node.cur rect{stroke:#d48a00;stroke-width:4}.node.hit rect{stroke:#0a6b2e;stroke-width:4}\n"
    ".node.future{opacity:.35}\n"
    ".edge{fill:none;stroke:#888;stroke-width:1.2;marker-end:url(#arrow)}\n"
    ".edge.act{stroke:#0a6b2e;stroke-width:2.5}\n";

/* The page's script: shows step N of the forward replay (#forward=N) or of the reverse sweep
 * (#step=N; step 0 seeds adj(loss) = 1, step k is the k-th row the sweep ran). Numbers are
 * formatted as C's "%.4g" (g4), matrices as the printers write them (mat). */
static const char *const page_script[] = {
    "window.onerror = function (msg, src, line) {\n",
    "  const e = document.getElementById('js-errors');\n",
    "  e.textContent += 'script error: ' + msg + ' (line ' + line + ')\\n';\n",
    "  e.dataset.count = String(+e.dataset.count + 1);\n",
    "};\n",
    "function g4(x, keepSign) {\n",
    "  if (Number.isNaN(x)) return 'nan';\n",
    "  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';\n",
    "  if (x === 0) return keepSign && Object.is(x, -0) ? '-0' : '0';\n",
    "  const [m, e] = x.toExponential(3).split('e'), E = Number(e);\n",
    "  if (E < -4 || E >= 4)\n",
    "    return m.replace(/\\.?0+$/, '') + 'e' + (E < 0 ? '-' : '+') + String(Math.abs(E)).padStart(2, '0');\n",
    "  const s = x.toFixed(3 - E);\n",
    "  return s.indexOf('.') < 0 ? s : s.replace(/\\.?0+$/, '');\n",
    "}\n",
    "function mat(v, shape) {\n",
    "  if (v === null) return '-';\n",
    "  if (!Array.isArray(v)) return 'min ' + g4(v.min, 1) + ' mean ' + g4(v.mean, 1) + ' max ' + g4(v.max, 1);\n",
    "  let s = '[';\n",
    "  v.forEach(function (x, i) { s += (i === 0 ? '' : i % shape[1] === 0 ? '; ' : ' ') + g4(x); });\n",
    "  return s + ']';\n",
    "}\n",
    "function big(shape) { return shape[0] * shape[1] > 12 ? '(' + shape[0] + 'x' + shape[1] + ') ' : ''; }\n",
    "const $ = function (id) { return document.getElementById(id); };\n",
    "let mode = S.length ? 'step' : 'forward', at = 0;\n",
    "function last() { return mode === 'step' ? S.length - 1 : R.length - 1; }\n",
    "function el(tag, cls, text) {\n",
    "  const e = document.createElement(tag);\n",
    "  if (cls) e.className = cls;\n",
    "  if (text !== undefined) e.textContent = text;\n",
    "  return e;\n",
    "}\n",
    "function mark(i, cls) { const n = $('n' + i); if (n) n.classList.add(cls); $('r' + i).classList.add(cls); }\n",
    "function show() {\n",
    "  at = Math.max(0, Math.min(at, last()));\n",
    "  document.querySelectorAll('.cur,.hit,.future,.act').forEach(function (e) {\n",
    "    e.classList.remove('cur', 'hit', 'future', 'act');\n",
    "  });\n",
    "  $('bstep').classList.toggle('on', mode === 'step');\n",
    "  $('bfwd').classList.toggle('on', mode === 'forward');\n",
    "  const adj = R.map(function (r) { return r.g ? 'zero' : null; });\n",
    "  const terms = $('terms');\n",
    "  terms.textContent = '';\n",
    "  let row;\n",
    "  if (mode === 'forward') {\n",
    "    row = at;\n",
    "    for (let i = at + 1; i < R.length; i++) mark(i, 'future');\n",
    "    R.forEach(function (r, i) { adj[i] = null; });\n",
    "    $('where').textContent = 'forward replay: row ' + (at + 1) + ' of ' + R.length;\n",
    "    const li = el('li');\n",
    "    if (R[at].fwd) {\n",
    "      li.appendChild(el('code', '', R[at].fwd));\n",
    "      li.appendChild(el('br'));\n",
    "      li.appendChild(el('code', 'vals', R[at].fwdv));\n",
    "      li.appendChild(el('br'));\n",
    "    } else li.appendChild(el('span', 'skip', 'a leaf: ' + R[at].op + ' (nothing to compute) '));\n",
    "    li.appendChild(el('span', '', 'value '));\n",
    "    li.appendChild(el('code', 'added', mat(R[at].v, R[at].shape)));\n",
    "    terms.appendChild(li);\n",
    "    R[at].in.forEach(function (j) { mark(j, 'hit'); });\n",
    "  } else {\n",
    "    adj[S[0].r] = [1];\n",
    "    for (let s = 0; s <= at; s++)\n",
    "      S[s].t.forEach(function (t) { if (t.k >= 0 && t.a !== null) adj[t.to] = t.a; });\n",
    "    const st = S[at];\n",
    "    row = st.r;\n",
    "    $('where').textContent = at === 0 ? 'reverse sweep: step 0 of ' + last() + ', the seed'\n",
    "                                      : 'reverse sweep: step ' + at + ' of ' + last();\n",
    "    if (at === 0) terms.appendChild(el('li', 'term', 'adj(' + R[row].l + ') = 1: the seed, d' + R[row].l + '/d' + R[row].l));\n",
    "    st.t.forEach(function (t) {\n",
    "      const li = el('li', 'term');\n",
    "      li.dataset.target = t.to;\n",
    "      li.appendChild(el('code', 'rule', t.rule));\n",
    "      if (t.vals !== t.rule) { li.appendChild(el('br')); li.appendChild(el('code', 'vals', t.vals)); }\n",
    "      li.appendChild(el('br'));\n",
    "      const who = t.k < 0 ? 'grad(' + R[t.to].l + ')' : 'adj(' + R[t.to].l + ')';\n",
    "      if (t.skip) li.appendChild(el('span', 'skip', '(skipped: ' + R[t.to].l + ' needs no gradient)'));\n",
    "      else if (t.dup >= 0) li.appendChild(el('span', 'skip', '(same row as input ' + (t.dup + 1) + ': the line above shows both terms)'));\n",
    "      else {\n",
    "        li.appendChild(el('span', '', 'added '));\n",
    "        li.appendChild(el('code', 'added', big(t.shape) + mat(t.d, t.shape)));\n",
    "        li.appendChild(el('span', '', '; ' + who + ' is now '));\n",
    "        li.appendChild(el('code', 'after', mat(t.a, t.shape)));\n",
    "        if (t.k >= 0) {\n",
    "          mark(t.to, 'hit');\n",
    "          document.querySelectorAll('.e' + t.to + '.e' + st.r).forEach(function (e) { e.classList.add('act'); });\n",
    "        }\n",
    "      }\n",
    "      terms.appendChild(li);\n",
    "    });\n",
    "  }\n",
    "  mark(row, 'cur');\n",
    "  const h = $('step-row');\n",
    "  h.dataset.row = row;\n",
    "  h.textContent = 'v' + row + (R[row].l === 'v' + row ? '' : ' ' + R[row].l) + ': ' + R[row].op + (mode === 'step' && R[row].vjp ? '    VJP rule: ' + R[row].vjp : '');\n",
    "  R.forEach(function (r, i) {\n",
    "    const a = adj[i], text = a === null ? (mode === 'step' ? '-' : '') : a === 'zero' ? '0' : mat(a, r.shape);\n",
    "    $('adj' + i).textContent = text;\n",
    "    const g = $('g' + i);\n",
    "    if (!g) return;\n",
    "    g.textContent = a === null ? '' : a === 'zero' ? 'adj 0' : Array.isArray(a) && text.length <= 40 ? 'adj ' + text : 'adj ' + r.shape.join('x');\n",
    "    g.removeAttribute('textLength');\n",
    "    if (g.getComputedTextLength && g.getComputedTextLength() > NODE_W - 8) g.setAttribute('textLength', NODE_W - 8);\n",
    "  });\n",
    "  history.replaceState(null, '', '#' + mode + '=' + at);\n",
    "  into_view($('tablebox'), $('r' + row).offsetTop, $('r' + row).offsetHeight);\n",
    "  if ($('n' + row)) into_view($('graphbox'), +$('n' + row).dataset.y, NODE_H, +$('n' + row).dataset.x);\n",
    "}\n",
    "function go(m, n) { mode = m; at = n; show(); }\n",
    "function into_view(box, top, height, left) {\n",
    "  if (top < box.scrollTop || top + height > box.scrollTop + box.clientHeight)\n",
    "    box.scrollTop = top - (box.clientHeight - height) / 2;\n",
    "  if (left !== undefined && (left < box.scrollLeft || left + NODE_W > box.scrollLeft + box.clientWidth))\n",
    "    box.scrollLeft = left - (box.clientWidth - NODE_W) / 2;\n",
    "}\n",
    "$('bfwd').onclick = function () { go('forward', 0); };\n",
    "$('bstep').onclick = function () { go('step', 0); };\n",
    "$('bfirst').onclick = function () { at = 0; show(); };\n",
    "$('bback').onclick = function () { at--; show(); };\n",
    "$('bnext').onclick = function () { at++; show(); };\n",
    "$('blast').onclick = function () { at = last(); show(); };\n",
    "document.onkeydown = function (e) {\n",
    "  if (e.key === 'ArrowRight') { at++; show(); }\n",
    "  if (e.key === 'ArrowLeft') { at--; show(); }\n",
    "};\n",
    "const hash = /^#(step|forward)=(\\d+)$/.exec(location.hash);\n",
    "if (hash && (hash[1] === 'forward' || S.length)) { mode = hash[1]; at = Number(hash[2]); }\n",
    "if (R.length) show();\n",
    "document.body.dataset.ready = '1';\n",};

void wg_tape_html(wg_tape *t, FILE *f) {
  if (!f) return;
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>wengert: the tape, step by step</title>\n<style>\n", f);
  fputs(page_style, f);
  fputs("</style>\n<script>\n", f);
  if (!t) {
    fputs("const R = [], S = [];\n</script>\n</head>\n<body>\n<h1>wengert tape: NULL</h1>\n"
          "<p class=\"error\">the tape is NULL (wg_tape_new failed: out of memory)</p>\n"
          "<pre id=\"js-errors\" data-count=\"0\"></pre>\n</body>\n</html>\n", f);
    return;
  }
  write_rows_data(t, f);
  fputs("const S = [];\n", f);
  uint32_t loss = find_loss(t);
  if (loss != UINT32_MAX && wg_live(t)) fprintf(f, "S.push({r:%u,t:[]});\n", (unsigned)loss);
  sweep_into_page(t, f, loss);
  int n_layers = 0, *lay = t->n_rows ? layout(t, &n_layers) : NULL;
  if (t->n_rows && !lay)
    wg_fail(t, WG_ERR_NOMEM, "html: out of memory for the graph's layout (%u rows)",
            (unsigned)t->n_rows);
  char lab[LABEL];
  fputs("</script>\n</head>\n<body>\n<h1>wengert: the tape, step by step</h1>\n<p>", f);
  fprintf(f, "%u rows", (unsigned)t->n_rows);
  if (loss != UINT32_MAX) {
    fputs("; the reverse sweep starts at the loss ", f);
    html_text(f, wg_row_label(t, loss, lab, sizeof lab));
    fprintf(f, " (v%u) with adj = 1", (unsigned)loss);
  } else {
    fputs("; no loss (a 1x1 row that needs a gradient and that nothing uses): forward replay only", f);
  }
  fputs(". Arrow keys step; the address (#step=N, #forward=N) links the step shown.</p>\n", f);
  if (t->status) {
    fputs("<p class=\"error\" id=\"tape-error\">", f);
    html_text(f, wg_status_string(t->status));
    fputs(": ", f);
    html_text(f, t->error);
    fputs("</p>\n", f);
  }
  fputs("<div id=\"controls\"><button id=\"bfwd\">forward replay</button>"
        "<button id=\"bstep\">reverse sweep</button><span style=\"width:16px\"></span>"
        "<button id=\"bfirst\">|&lt; first</button><button id=\"bback\">&lt; back</button>"
        "<button id=\"bnext\">step &gt;</button><button id=\"blast\">last &gt;|</button>"
        "<span id=\"where\" class=\"mono\"></span></div>\n"
        "<div id=\"panel\"><h2 id=\"step-row\"></h2><ul id=\"terms\"></ul></div>\n"
        "<pre id=\"js-errors\" class=\"error\" data-count=\"0\"></pre>\n"
        "<div id=\"views\"><div id=\"graphbox\">\n", f);
  write_graph(t, f, lay, n_layers);
  wg_free(lay, 3 * (size_t)t->n_rows * sizeof *lay);
  fputs("</div><div id=\"tablebox\">\n", f);
  write_table(t, f);
  fprintf(f, "</div></div>\n<script>\nconst NODE_W = %d, NODE_H = %d;\n", NODE_W, NODE_H);
  for (size_t i = 0; i < sizeof page_script / sizeof page_script[0]; i++) fputs(page_script[i], f);
  fputs("</script>\n</body>\n</html>\n", f);
}
