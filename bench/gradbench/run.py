#!/usr/bin/env python3
"""make gradbench GRADBENCH=<GradBench work tree> [GRADBENCH_ARGS="--quick --evals lse,gmm"]:
runs each eval's program against wengert-tool, the snapshot's PyTorch tool (one thread, when
torch imports and the tool has the eval) and its manual (hand-differentiated C++) tool, relays
the JSON lines between eval and tool, and prints validity and median seconds per evaluation.
Sizes are each eval's defaults; --quick uses a reduced set (min_seconds 0.2) for a short run.
kmeans, saddle and particle (higher-order and nested derivatives) run in wengert-nested; saddle
and particle have no manual or PyTorch tool (their evals check fixed numbers).
lstm reads evals/lstm/data/lstm_full.txt, which a snapshot may lack (git reports its blob
missing): then lstm is skipped, or --lstm-text FILE runs it on FILE in that file's place (in an
overlay directory: the snapshot is not written to)."""
import json, os, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
# The evals need numpy, scipy, pydantic (Debian packages): use the system interpreter.
PY = os.environ.get("GB_PYTHON") or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
S = "--min-seconds 0.2"
QUICK = {"hello": "", "lse": "-n 2500 20000 160000 " + S, "llsq": "-n 64 512 4096 " + S,
         "gmm": "-d 2 10 20 -k 5 25 " + S, "ode": "-n 1000 10000 -s 1 10 " + S,
         "det": "-l 5 7 9 11 " + S, "lstm": "-l 2 4 -c 1024 4096 " + S,
         "kmeans": "-k 10 100 -n 1000 10000 -d 8 16 " + S,
         "saddle": "--min-runs 3 --min-seconds 0", "particle": "--min-runs 1 --min-seconds 0"}
LSTM_TEXT = "evals/lstm/data/lstm_full.txt"
# pydantic 1 (Debian 12) lacks the version-2 name the evals call: alias it.
SHIM = ("import pydantic, runpy, sys\n"
        "B = pydantic.BaseModel\n"
        "if not hasattr(B, 'model_validate'): B.model_validate = classmethod(lambda c, o: c.parse_obj(o))\n"
        "runpy.run_module(sys.argv.pop(1), run_name='__main__')\n")


def session(gb, env, ev, args, tool):
    """One eval against one tool: {(size, function): [valid, median s per evaluation]}."""
    evp = subprocess.Popen([PY, "-c", SHIM, f"gradbench.evals.{ev}.run"] + args.split(),
                           cwd=gb, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tp = subprocess.Popen(tool, cwd=gb, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pending, rows = {}, {}
    for line in evp.stdout:
        msg = json.loads(line)
        tp.stdin.write(line); tp.stdin.flush()
        if msg["kind"] == "end":
            break
        reply = tp.stdout.readline()
        if not reply:
            break
        evp.stdin.write(reply); evp.stdin.flush()
        rep = json.loads(reply)
        if msg["kind"] == "evaluate":
            key = (msg.get("description", ""), msg["function"])
            ns = [t["nanoseconds"] for t in rep.get("timings") or [] if t["name"] == "evaluate"]
            rows[key] = [bool(rep.get("success")) and None, statistics.median(ns) / 1e9 if ns else None]
            pending[msg["id"]] = key
        elif msg["kind"] == "analysis" and msg["of"] in pending:
            rows[pending[msg["of"]]][0] = msg["valid"]
    for p in (tp, evp):
        p.stdin.close(); p.wait()
    if (evp.returncode or not rows) and "wengert" in tool[-1]:
        sys.exit(f"make gradbench: the {ev} eval failed (exit {evp.returncode}) with {tool[-1]}")
    return rows


def table(ev, w, pt, man):
    f = lambda v: "-" if v is None else f"{v:.3g}"
    ok = lambda r: {None: "-", True: "valid", False: "INVALID"}[r[0]] if r else "-"
    print(f"\n{ev}\n| size | function | valid (w/pt/man) | wengert s | pytorch s | manual s"
          " | wengert/pytorch | wengert/manual |\n|---|---|---|---|---|---|---|---|")
    for key, wr in w.items():
        p, m = pt.get(key), man.get(key)
        ratio = lambda o: f(wr[1] / o[1]) if wr[1] and o and o[0] and o[1] else "-"
        print(f"| {key[0] or '-'} | {key[1]} | {ok(wr)}/{ok(p)}/{ok(m)} | {f(wr[1])} | "
              f"{f(p and p[1])} | {f(m and m[1])} | {ratio(p)} | {ratio(m)} |")


def lstm_tree(gb, text):
    """gb itself when it has lstm's text; else an overlay of gb with text in its place (None
    when there is no text to use)."""
    if os.path.exists(os.path.join(gb, LSTM_TEXT)):
        return gb
    if not text:
        return None
    tree = tempfile.mkdtemp(prefix="gradbench-lstm-")
    for name in os.listdir(gb):
        if name != "evals":
            os.symlink(os.path.join(gb, name), os.path.join(tree, name))
    os.makedirs(os.path.join(tree, os.path.dirname(LSTM_TEXT)))
    os.symlink(os.path.abspath(text), os.path.join(tree, LSTM_TEXT))
    return tree


def main():
    argv = sys.argv[1:]
    quick = "--quick" in argv
    evs = argv[argv.index("--evals") + 1].split(",") if "--evals" in argv else list(QUICK)
    gb = argv[0] if argv and not argv[0].startswith("--") else ""
    if not gb or not os.path.isdir(os.path.join(gb, "python/gradbench/gradbench/evals")):
        sys.exit("make gradbench: set GRADBENCH to a GradBench work tree (with python/gradbench/"
                 "gradbench/evals), e.g. make gradbench GRADBENCH=/tmp/gradbench")
    gb = os.path.abspath(gb)
    pypath = os.path.join(gb, "python/gradbench")
    cxx = "-std=c++17 -O3 -Wall -I../../cpp -I/usr/include/nlohmann"  # json.hpp: nlohmann-json3-dev
    env = dict(os.environ, PYTHONPATH=pypath, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               WG_NUM_THREADS="1", CXXFLAGS=cxx)
    torch = subprocess.run([PY, "-c", "import torch"], capture_output=True).returncode == 0
    start = time.time()
    for ev in evs:
        root = gb
        if ev == "lstm":
            text = argv[argv.index("--lstm-text") + 1] if "--lstm-text" in argv else ""
            tree = lstm_tree(gb, text)
            if not tree:
                print(f"\nlstm: not run: the snapshot has no {LSTM_TEXT} (give a stand-in text "
                      "with --lstm-text FILE)")
                continue
            if tree != gb:
                print(f"\nlstm: the snapshot has no {LSTM_TEXT}: {text} stands in for it")
            root = tree
        # saddle and particle have no manual tool (their evals check fixed numbers)
        has_man = os.path.exists(os.path.join(root, f"tools/manual/{ev}.cpp"))
        mk = subprocess.run(["make", "-s", "-C", "tools/manual", f"bin/{ev}"],
                            cwd=root, env=env, capture_output=True, text=True) if has_man else None
        if mk and mk.returncode:
            sys.exit(f"make gradbench: building GradBench's golden {ev} failed:\n{mk.stdout}{mk.stderr}")
        args = QUICK.get(ev, "") if quick else ""
        t0 = time.time()
        w = session(root, env, ev, args, [os.path.join(HERE, "wengert-tool")])
        has_pt = torch and os.path.exists(os.path.join(pypath, f"gradbench/tools/pytorch/{ev}.py"))
        ptenv = dict(env, PYTHONPATH=pypath + os.pathsep + os.path.join(pypath, "gradbench/tools/pytorch"))
        pt = session(root, ptenv, ev, args, [PY, "-m", "gradbench.tools.pytorch.run"]) if has_pt else {}
        man = session(root, env, ev, args, [PY, "-m", "gradbench.cpp", "manual"]) if has_man else {}
        if root != gb:
            shutil.rmtree(root)  # the overlay: symlinks only
        table(ev, w, pt, man)
        print(f"({ev}: {time.time() - t0:.0f} s for the three tools)")
    print(f"\nmake gradbench: {time.time() - start:.0f} s in all")


if __name__ == "__main__":
    main()
