/* check_html.c - the teaching page (wg_tape_html): its embedded numbers against wg_tape_trace's
 * text and the seed's closed forms, escaping, no network references, robustness, the committed
 * docs/seed.html, and (with Chromium installed) the page itself in a headless browser: no script
 * errors, and at each #step=N the row and the numbers the trace printed for that step.
 *
 * Browser runs go through docs/tools/chromium.sh (the script `make teach-page` uses). They are
 * skipped, with a line saying so, when chromium is not installed or WG_TEST_NO_BROWSER is set
 * (make sanitize, valgrind and coverage set it: the browser is not the code they watch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tape/tape.h"
#include "countalloc.h"
#include "testutil.h"
#include "wengert.h"

#include "../examples/seed_tiny.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *page_of(wg_tape *t) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  wg_tape_html(t, f);
  ck_assert_int_eq(fclose(f), 0);
  return buf;
}

static char *trace_of(wg_tape *t, wg_var loss) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_ptr_nonnull(f);
  wg_tape_trace(t, f);
  wg_backward(t, loss);
  wg_tape_trace(t, NULL);
  ck_assert_int_eq(fclose(f), 0);
  return buf;
}

/* A matrix as the C printers write it (4 significant digits, no "-0"; summaries above 12). */
static void c_matrix(char *out, size_t n, const double *x, int count, int cols) {
  size_t len = (size_t)snprintf(out, n, "[");
  for (int i = 0; i < count && len < n; i++)
    len += (size_t)snprintf(out + len, n - len, "%s%.4g", i == 0 ? "" : i % cols == 0 ? "; " : " ",
                            x[i] == 0 ? 0.0 : x[i]);
  if (len < n) snprintf(out + len, n - len, "]");
}

/* One term of a traced step, from the text trace: its rule and what follows " = " (or the
 * "(skipped ...)" note). */
typedef struct {
  char label[64], rule[512], shown[512];
  int step;
} text_term;

static int parse_trace(const char *trace, text_term *out, int max) {
  int n = 0, step = 0;
  for (const char *p = trace; *p && n < max;) {
    const char *eol = strchr(p, '\n');
    char line[1024];
    snprintf(line, sizeof line, "%.*s", (int)(eol - p), p);
    text_term *t = &out[n];
    memset(t, 0, sizeof *t);
    const char *body = line;
    if (line[0] != ' ') {
      step++;
      ck_assert_int_eq(sscanf(line, "%63s", t->label), 1);
      body = strstr(line, ": ") + 2;
    } else {
      snprintf(t->label, sizeof t->label, "%s", out[n - 1].label);
      while (*body == ' ') body++;
    }
    t->step = step;
    const char *eq = strstr(body, " = "), *note = strstr(body, "   (");
    const char *cut = eq ? eq : note;
    ck_assert_ptr_nonnull(cut);
    snprintf(t->rule, sizeof t->rule, "%.*s", (int)(cut - body), body);
    snprintf(t->shown, sizeof t->shown, "%s", eq ? eq + 3 : note + 3);
    n++;
    p = eol + 1;
  }
  return n;
}

/* The page's steps: every S.push after the seed, each term's rule and delta parsed back. */
typedef struct {
  int step, row, k, to, skip, shape[2], n;
  char rule[512];
  double d[16];   /* the delta when small (n elements) */
  int summary;    /* 1: d[0..2] = min, mean, max */
} page_term;

static const char *js_string_at(const char *p, char *out, size_t n) {
  ck_assert_int_eq(*p, '"');
  size_t len = 0;
  for (p++; *p && *p != '"'; p++) {
    char c = *p;
    if (c == '\\') {
      p++;
      if (*p == 'u') {
        unsigned v;
        ck_assert_int_eq(sscanf(p + 1, "%4x", &v), 1);
        c = (char)v;
        p += 4;
      } else {
        c = *p;
      }
    }
    if (len + 1 < n) out[len++] = c;
  }
  out[len] = '\0';
  return p + 1;
}

static int parse_page_steps(const char *page, page_term *out, int max) {
  int n = 0, step = 0;
  for (const char *p = strstr(page, "\nS.push({r:"); p; p = strstr(p + 1, "\nS.push({r:")) {
    int row = atoi(p + 11);
    const char *end = strstr(p, "]});\n");
    ck_assert_ptr_nonnull(end);
    if (strncmp(strchr(p, ','), ",t:[]", 5) == 0) continue; /* the seed */
    step++;
    for (const char *q = strstr(p, "{k:"); q && q < end && n < max; q = strstr(q + 1, "{k:")) {
      page_term *t = &out[n++];
      memset(t, 0, sizeof *t);
      t->step = step, t->row = row;
      ck_assert_int_eq(sscanf(q, "{k:%d,to:%d,dup:%*d,skip:%d", &t->k, &t->to, &t->skip), 3);
      js_string_at(strstr(q, "rule:") + 5, t->rule, sizeof t->rule);
      const char *d = strstr(q, ",d:") + 3;
      ck_assert_int_eq(sscanf(strstr(q, "shape:["), "shape:[%d,%d]", &t->shape[0], &t->shape[1]), 2);
      if (*d == '[') {
        for (const char *e = d; *e != ']';) {
          char *next;
          t->d[t->n < 16 ? t->n++ : 15] = strtod(e + 1, &next);
          e = next;
        }
      } else if (*d == '{') {
        t->summary = 1;
        ck_assert_int_eq(sscanf(d, "{min:%lf,mean:%lf,max:%lf}", &t->d[0], &t->d[1], &t->d[2]), 3);
      }
    }
  }
  return n;
}

static void page_term_shown(const page_term *t, char *out, size_t n) {
  if (t->skip) {
    snprintf(out, n, "(skipped");
  } else if (t->summary) {
    snprintf(out, n, "(%dx%d) min %.4g mean %.4g max %.4g", t->shape[0], t->shape[1], t->d[0],
             t->d[1], t->d[2]);
  } else {
    c_matrix(out, n, t->d, t->n, t->shape[1]);
  }
}

/* The seed's closed form dL/dZ = (A - t) / m, from the data with libm. */
static void seed_dz(double dz[SEED_M]) {
  const double W[SEED_N] = {0.5, -0.25}, b = 0.1;
  for (int i = 0; i < SEED_M; i++) {
    double z = b;
    for (int k = 0; k < SEED_N; k++) z += seed_x[i * SEED_N + k] * W[k];
    dz[i] = (1 / (1 + exp(-z)) - seed_t[i]) / SEED_M;
  }
}

static void seed_free(wg_tape *t, seed_net *s) {
  wg_tape_free(t);
  wg_param_free(s->W);
  wg_param_free(s->b);
}

/* ---- the page's numbers are the trace's ------------------------------------------------------ */

START_TEST(page_steps_equal_the_trace) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  char *page = page_of(t);
  wg_param_zero_grad(s.W), wg_param_zero_grad(s.b);
  char *trace = trace_of(t, s.L);
  static text_term tt[32];
  static page_term pt[32];
  int nt = parse_trace(trace, tt, 32), np = parse_page_steps(page, pt, 32);
  ck_assert_int_eq(nt, 9); /* the seed's trace: 6 steps, 9 terms */
  ck_assert_int_eq(np, nt);
  for (int i = 0; i < nt; i++) {
    char shown[512], lab[80];
    ck_assert_int_eq(pt[i].step, tt[i].step);
    ck_assert_str_eq(wg_row_label(t, (uint32_t)pt[i].row, lab, sizeof lab), tt[i].label);
    ck_assert_str_eq(pt[i].rule, tt[i].rule);
    page_term_shown(&pt[i], shown, sizeof shown);
    ck_assert_msg(strncmp(tt[i].shown, shown, strlen(shown)) == 0, "term %d: trace \"%s\", page \"%s\"",
                  i, tt[i].shown, shown);
  }
  /* the sigmoid step's delta is adj(Z) whole (its only contribution), to the last bit, and the
   * seed's (A - t)/m to rounding */
  double dz[SEED_M];
  seed_dz(dz);
  const wg_real *gz = wg_grad(t, s.Z).data;
  int found = 0;
  for (int i = 0; i < np; i++) {
    if (pt[i].row != (int)s.A.row) continue;
    found = 1;
    ck_assert_int_eq(pt[i].n, SEED_M);
    for (int j = 0; j < SEED_M; j++) {
      ck_assert_msg(pt[i].d[j] == gz[j], "adj(Z)[%d]: page %.17g, tape %.17g", j, pt[i].d[j], gz[j]);
      ck_assert_double_eq_tol(pt[i].d[j], dz[j], TU_TOL(1e-15));
    }
  }
  ck_assert(found);
  free(page);
  free(trace);
  seed_free(t, &s);
}
END_TEST

/* The page puts the parameters' gradients back and leaves a trace stream in place. */
START_TEST(page_leaves_gradients_and_trace) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  const wg_real gw[2] = {0.5, -1.5}, gb = 2.25;
  memcpy(wg_param_grad(s.W).data, gw, sizeof gw);
  wg_param_grad(s.b).data[0] = gb;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  wg_tape_trace(t, f);
  free(page_of(t));
  ck_assert(wg_param_grad(s.W).data[0] == gw[0] && wg_param_grad(s.W).data[1] == gw[1]);
  ck_assert(wg_param_grad(s.b).data[0] == gb);
  fflush(f);
  ck_assert_uint_eq(len, 0); /* the page's sweep wrote nothing to the user's trace */
  wg_backward(t, s.L);       /* the user's trace is still set */
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "A sigmoid: adj(Z) += adj(A) * A * (1 - A)"));
  free(buf);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  seed_free(t, &s);
}
END_TEST

/* Names are escaped in the HTML and in the script; the page references nothing outside. */
START_TEST(page_escapes_and_is_self_contained) {
  wg_tape *t = wg_tape_new();
  wg_real x[2] = {1, 2};
  wg_param *W = wg_param_new("W", 2, 1);
  wg_var X = wg_input(t, 1, 2, x);
  wg_name(t, X, "</script><b>\"&'\\");
  wg_var L = wg_sum(t, wg_matmul(t, X, wg_use(t, W)));
  wg_name(t, L, "L");
  char *page = page_of(t);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  ck_assert_ptr_null(strstr(page, "<b>"));
  ck_assert_ptr_nonnull(strstr(page, "&lt;/script&gt;&lt;b&gt;&quot;&amp;'\\"));
  ck_assert_ptr_nonnull(strstr(page, "\\u003c/script\\u003e\\u003cb\\u003e\\\"\\u0026'\\\\"));
  int scripts = 0;
  for (const char *p = strstr(page, "</script>"); p; p = strstr(p + 1, "</script>")) scripts++;
  ck_assert_int_eq(scripts, 2);
  ck_assert_ptr_null(strstr(page, "src="));
  ck_assert_ptr_null(strstr(page, "href="));
  ck_assert_ptr_null(strstr(page, "@import"));
  ck_assert_ptr_null(strstr(page, "https:"));
  const char *http = strstr(page, "http:");
  ck_assert_ptr_nonnull(http); /* only the SVG namespace */
  ck_assert_ptr_nonnull(strstr(http - 7, "xmlns=\"http://www.w3.org/2000/svg\""));
  ck_assert_ptr_null(strstr(http + 1, "http:"));
  free(page);
  wg_tape_free(t);
  wg_param_free(W);
}
END_TEST

START_TEST(page_without_loss_or_tape) {
  wg_tape *t = wg_tape_new();
  wg_real x[4] = {1, 2, 3, 4};
  wg_exp(t, wg_input(t, 2, 2, x)); /* no parameter: no row needs a gradient */
  char *page = page_of(t);
  ck_assert_ptr_nonnull(strstr(page, "forward replay only"));
  ck_assert_ptr_null(strstr(page, "S.push("));
  ck_assert_ptr_nonnull(strstr(page, "id=\"r1\""));
  free(page);
  page = page_of(NULL);
  ck_assert_ptr_nonnull(strstr(page, "the tape is NULL"));
  ck_assert_ptr_nonnull(strstr(page, "</html>\n"));
  free(page);
  wg_tape_html(t, NULL);
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  /* a tape in error: the page says so and runs no sweep */
  wg_matmul(t, wg_input(t, 2, 2, x), wg_input(t, 1, 4, x));
  page = page_of(t);
  ck_assert_ptr_nonnull(strstr(page, "id=\"tape-error\">shape mismatch: matmul: (2x2) @ (1x4)"));
  free(page);
  wg_tape_free(t);
}
END_TEST

/* Each allocation of the page's path fails in turn: the tape names it, the page is still whole,
 * nothing leaks. */
static ca_state heap;

START_TEST(page_out_of_memory) {
  int html_msgs = 0, trace_msgs = 0;
  for (long n = 1; n <= 16; n++) {
    memset(&heap, 0, sizeof heap);
    wg_set_allocator(ca_alloc, &heap);
    wg_tape *t = wg_tape_new();
    seed_net s;
    seed_record(t, &s);
    ck_assert_int_eq(wg_tape_status(t), WG_OK);
    heap.fail_at = heap.calls + n;
    heap.persistent = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len); /* libc's heap, not the hook */
    wg_tape_html(t, f);
    heap.fail_at = 0;
    fclose(f);
    if (wg_tape_status(t)) {
      ck_assert_int_eq(wg_tape_status(t), WG_ERR_NOMEM);
      ck_assert_ptr_nonnull(strstr(wg_tape_error(t), "out of memory"));
      ck_assert_ptr_nonnull(strstr(buf, "id=\"tape-error\">out of memory: "));
      html_msgs += strncmp(wg_tape_error(t), "html:", 5) == 0;
      trace_msgs += strncmp(wg_tape_error(t), "trace:", 6) == 0;
    }
    ck_assert_ptr_nonnull(strstr(buf, "</html>\n"));
    free(buf);
    seed_free(t, &s);
    wg_set_allocator(NULL, NULL);
    ck_assert_uint_eq(heap.live, 0);
    ck_assert_int_eq(heap.bad_size, 0);
  }
  ck_assert_int_ge(html_msgs, 2); /* the gradients kept aside, the layout */
  ck_assert_int_ge(trace_msgs, 1);
}
END_TEST

/* ---- docs/seed.html is what `make teach-page` writes now ------------------------------------ */

static char *read_source(const char *rel) {
  char path[4096];
  const char *env = getenv("WG_SRCDIR"), *file = __FILE__, *tail = strstr(file, "tests/check_html.c");
  if (env && *env) snprintf(path, sizeof path, "%s/%s", env, rel);
  else snprintf(path, sizeof path, "%.*s%s%s", tail ? (int)(tail - file) : 0, file,
                tail && tail != file ? "" : "./", rel);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s (set WG_SRCDIR to the source tree)", path);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) fwrite(chunk, 1, got, m);
  fclose(f);
  fclose(m);
  return buf;
}

/* Equal text, numbers equal to 12 significant digits (%.17g's last digits may differ between
 * compilers and flags). */
static int same_page(const char *a, const char *b, char *where, size_t n) {
  const char *a0 = a;
  while (*a && *b) {
    int num = (*a == '-' || (*a >= '0' && *a <= '9')) && (*b == '-' || (*b >= '0' && *b <= '9'));
    if (num && (a == a0 || !((a[-1] >= 'a' && a[-1] <= 'z') || (a[-1] >= 'A' && a[-1] <= 'Z')))) {
      char *ea, *eb;
      double x = strtod(a, &ea), y = strtod(b, &eb);
      if (ea != a && eb != b) {
        if (fabs(x - y) > TU_TOL(1e-12) * fmax(fabs(x), fabs(y))) break;
        a = ea, b = eb;
        continue;
      }
    }
    if (*a != *b) break;
    a++, b++;
  }
  snprintf(where, n, "%.60s", a);
  return *a == '\0' && *b == '\0';
}

START_TEST(seed_html_matches_the_writer) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  char *now = page_of(t), *doc = read_source("docs/seed.html"), where[64];
  ck_assert_msg(same_page(now, doc, where, sizeof where),
                "docs/seed.html is out of date (run `make teach-page`); differs at \"%s\"", where);
  free(now);
  free(doc);
  seed_free(t, &s);
}
END_TEST

/* ---- in a real browser ----------------------------------------------------------------------- */

static const char *browser_skip_reason(void) {
  const char *env = getenv("WG_TEST_NO_BROWSER");
  if (env && *env) return "skipped: WG_TEST_NO_BROWSER is set";
  if (system("command -v chromium >/dev/null 2>&1 && command -v timeout >/dev/null 2>&1") != 0)
    return "skipped: chromium not installed";
  return NULL;
}

/* The DOM of file://path#frag after the page's script ran, with the console lines after it. */
static char *browser_dom(const char *path, const char *frag) {
  char script[4096], cmd[8192];
  const char *env = getenv("WG_SRCDIR"), *file = __FILE__, *tail = strstr(file, "tests/check_html.c");
  if (env && *env) snprintf(script, sizeof script, "%s/docs/tools/chromium.sh", env);
  else snprintf(script, sizeof script, "%.*sdocs/tools/chromium.sh", tail ? (int)(tail - file) : 0, file);
  snprintf(cmd, sizeof cmd, "sh '%s' dom 'file://%s%s' 2>/dev/null", script, path, frag);
  FILE *p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, p)) > 0) fwrite(chunk, 1, got, m);
  fclose(m);
  int rc = pclose(p);
  ck_assert_msg(rc == 0, "chromium.sh dom %s%s failed (status %d)", path, frag, rc);
  return buf;
}

/* The texts of every <tag class="cls">...</tag> in dom, in order, entities decoded. */
static int dom_texts(const char *dom, const char *open, char out[][512], int max) {
  int n = 0;
  for (const char *p = strstr(dom, open); p && n < max; p = strstr(p + 1, open)) {
    const char *s = p + strlen(open), *e = strchr(s, '<');
    size_t k = 0;
    for (const char *q = s; q < e && k + 1 < 512; q++) {
      if (strncmp(q, "&gt;", 4) == 0) out[n][k++] = '>', q += 3;
      else if (strncmp(q, "&lt;", 4) == 0) out[n][k++] = '<', q += 3;
      else if (strncmp(q, "&amp;", 5) == 0) out[n][k++] = '&', q += 4;
      else out[n][k++] = *q;
    }
    out[n++][k] = '\0';
  }
  return n;
}

static void assert_page_ran(const char *dom, const char *what) {
  ck_assert_msg(strstr(dom, "<body data-ready=\"1\">") != NULL, "%s: the page's script did not finish", what);
  ck_assert_msg(strstr(dom, "id=\"js-errors\" class=\"error\" data-count=\"0\">") != NULL,
                "%s: script errors: %.300s", what, strstr(dom, "js-errors"));
  ck_assert_msg(strstr(dom, "\nconsole: ") == NULL, "%s: console says %.300s", what,
                strstr(dom, "\nconsole: "));
}

/* Load the page of tape t at #step=N for the given steps and compare the DOM with the trace
 * (taken after the page: same tape, gradients zeroed as the page has them). */
static void browser_check(wg_tape *t, wg_var loss, wg_param **params, int n_params,
                          const int *steps, int n_steps) {
  char dir[] = "/tmp/wg-check-html-XXXXXX", path[64];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/page.html", dir);
  FILE *f = fopen(path, "w");
  ck_assert_ptr_nonnull(f);
  wg_tape_html(t, f);
  fclose(f);
  for (int k = 0; k < n_params; k++) wg_param_zero_grad(params[k]);
  char *trace = trace_of(t, loss);
  static text_term tt[64];
  int nt = parse_trace(trace, tt, 64), last = tt[nt - 1].step;
  for (int k = 0; k < n_steps; k++) {
    int step = steps[k] < 0 ? last : steps[k];
    char frag[32], what[64], want[80];
    snprintf(frag, sizeof frag, "#step=%d", step);
    snprintf(what, sizeof what, "page at %s", frag);
    char *dom = browser_dom(path, frag);
    assert_page_ran(dom, what);
    static char added[8][512], rules[8][512], adj[256][512];
    int na = dom_texts(dom, "<code class=\"added\">", added, 8);
    int nr = dom_texts(dom, "<code class=\"rule\">", rules, 8);
    int nadj = dom_texts(dom, "<td class=\"adj\" id=\"adj", adj, 256);
    ck_assert_int_eq(nadj, wg_tape_rows(t));
    if (step == 0) { /* the seed: adj(loss) = 1, nothing else reached yet */
      snprintf(want, sizeof want, "data-row=\"%u\"", (unsigned)loss.row);
      ck_assert_ptr_nonnull(strstr(dom, want));
      ck_assert_int_eq(na, 0);
    }
    for (int i = 0, term = 0; step > 0 && i < nt; i++) {
      if (tt[i].step != step) continue;
      char lab[80];
      for (uint32_t r = 0; r < (uint32_t)wg_tape_rows(t); r++)
        if (strcmp(wg_row_label(t, r, lab, sizeof lab), tt[i].label) == 0)
          snprintf(want, sizeof want, "data-row=\"%u\"", (unsigned)r);
      ck_assert_msg(strstr(dom, want) != NULL, "%s: the page does not show row %s", what, tt[i].label);
      ck_assert_int_lt(term, nr);
      ck_assert_str_eq(rules[term], tt[i].rule);
      if (strncmp(tt[i].shown, "(skipped", 8) && strncmp(tt[i].shown, "(same", 5)) {
        int hit = 0;
        for (int j = 0; j < na; j++) hit |= strcmp(added[j], tt[i].shown) == 0;
        ck_assert_msg(hit, "%s: the trace added %s, the page shows %s", what, tt[i].shown,
                      na ? added[0] : "nothing");
      }
      term++;
    }
    /* the table's adjoints: at the last step, every row's final adjoint as the printers show it;
     * at the seed, 1 on the loss and 0 on every other row that needs a gradient */
    for (int r = 0; r < nadj; r++) {
      wg_mat g = wg_grad(t, wg_handle(t, (uint32_t)r));
      char cell[512], num[16];
      snprintf(num, sizeof num, "%d\">", r);
      ck_assert_int_eq(strncmp(adj[r], num, strlen(num)), 0);
      const char *text = adj[r] + strlen(num);
      if (!g.data) snprintf(cell, sizeof cell, "-");
      else if (step == 0) snprintf(cell, sizeof cell, r == (int)loss.row ? "[1]" : "0");
      else if (step != last || g.rows * g.cols > 12) continue;
      else {
        double x[12];
        for (int e = 0; e < g.rows * g.cols; e++) x[e] = g.data[e];
        c_matrix(cell, sizeof cell, x, g.rows * g.cols, g.cols);
      }
      ck_assert_msg(strcmp(text, cell) == 0, "%s: adj of row %d is %s on the page, %s on the tape",
                    what, r, text, cell);
    }
    free(dom);
  }
  free(trace);
  unlink(path);
  rmdir(dir);
}

START_TEST(browser_seed_page_steps) {
  wg_tape *t = wg_tape_new();
  seed_net s;
  seed_record(t, &s);
  const int steps[] = {0, 2, 5, -1}; /* -1: the last */
  wg_param *params[] = {s.W, s.b};
  browser_check(t, s.L, params, 2, steps, 4);
  seed_free(t, &s);
}
END_TEST

/* A two-layer softmax MLP like examples/digits.c (with a 1x1 bias too), on 32 samples:
 * matrices above 12 elements are summarised, and a parameter is used twice. */
START_TEST(browser_mlp_page_steps) {
  enum { M = 32, IN = 64, HID = 16, K = 10 };
  static wg_real x[M * IN], labels[M];
  unsigned long long st = 7;
  for (int i = 0; i < M * IN; i++) x[i] = tu_uniform(&st, 0, 1);
  for (int i = 0; i < M; i++) labels[i] = i % K;
  wg_param *W1 = wg_param_new("W1", IN, HID), *b1 = wg_param_new("b1", 1, HID),
           *W2 = wg_param_new("W2", HID, K), *b2 = wg_param_new("b2", 1, K);
  for (int i = 0; i < IN * HID; i++) wg_param_value(W1).data[i] = tu_uniform(&st, -0.3, 0.3);
  for (int i = 0; i < HID * K; i++) wg_param_value(W2).data[i] = tu_uniform(&st, -0.5, 0.5);
  wg_tape *t = wg_tape_new();
  wg_var X = wg_input(t, M, IN, x), T = wg_input(t, M, 1, labels);
  wg_var H = wg_relu(t, wg_add(t, wg_matmul(t, X, wg_use(t, W1)), wg_use(t, b1)));
  wg_var Z = wg_add(t, wg_matmul(t, H, wg_use(t, W2)), wg_use(t, b2));
  wg_var L = wg_add(t, wg_softmax_ce(t, Z, T), wg_mean(t, wg_square(t, wg_use(t, b2))));
  wg_name(t, L, "L");
  ck_assert_int_eq(wg_tape_status(t), WG_OK);
  const int steps[] = {1, 4, -1};
  wg_param *params[] = {W1, b1, W2, b2};
  browser_check(t, L, params, 4, steps, 3);
  wg_tape_free(t);
  for (int k = 0; k < 4; k++) wg_param_free(params[k]);
}
END_TEST

Suite *make_suite(void) {
  Suite *s = suite_create("html");
  TCase *tc = tcase_create("page");
  tcase_add_test(tc, page_steps_equal_the_trace);
  tcase_add_test(tc, page_leaves_gradients_and_trace);
  tcase_add_test(tc, page_escapes_and_is_self_contained);
  tcase_add_test(tc, page_without_loss_or_tape);
  tcase_add_test(tc, page_out_of_memory);
  tcase_add_test(tc, seed_html_matches_the_writer);
  suite_add_tcase(s, tc);
  const char *skip = browser_skip_reason();
  if (skip) {
    printf("browser test %s\n", skip);
    fflush(stdout);
  } else {
    tc = tcase_create("browser");
    tcase_add_test(tc, browser_seed_page_steps);
    tcase_add_test(tc, browser_mlp_page_steps);
    tcase_set_timeout(tc, 600);
    suite_add_tcase(s, tc);
  }
  return s;
}

WG_TEST_MAIN()
