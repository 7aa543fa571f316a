#!/usr/bin/env python3
"""make gradbench GRADBENCH=<GradBench work tree>: runs each eval's program against
wengert-tool (and the snapshot's PyTorch tool, one thread, when torch imports), relays the
JSON lines between them, and prints validity and median seconds per evaluation."""
import json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The evals need numpy, scipy, pydantic (Debian packages): use the system interpreter.
PY = os.environ.get("GB_PYTHON") or ("/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3")
S = "--min-seconds 0.2"
EVALS = {"hello": "", "lse": "-n 2500 20000 160000 " + S, "llsq": "-n 64 512 4096 " + S,
         "gmm": "-d 2 10 20 -k 5 25 " + S, "ode": "-n 1000 10000 -s 1 10 " + S,
         "det": "-l 5 7 9 11 " + S}
# pydantic 1 (Debian 12) lacks the version-2 name the evals call: alias it.
SHIM = ("import pydantic, runpy, sys\n"
        "B = pydantic.BaseModel\n"
        "if not hasattr(B, 'model_validate'): B.model_validate = classmethod(lambda c, o: c.parse_obj(o))\n"
        "runpy.run_module(sys.argv.pop(1), run_name='__main__')\n")


def session(gb, env, ev, tool):
    evp = subprocess.Popen([PY, "-c", SHIM, f"gradbench.evals.{ev}.run"] + EVALS[ev].split(),
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
            ns = [t["nanoseconds"] for t in rep.get("timings") or []]
            rows[key] = [bool(rep.get("success")) and None, statistics.median(ns) / 1e9 if ns else None]
            pending[msg["id"]] = key
        elif msg["kind"] == "analysis" and msg["of"] in pending:
            rows[pending[msg["of"]]][0] = msg["valid"]
    for p in (tp, evp):
        p.stdin.close(); p.wait()
    if (evp.returncode or not rows) and "wengert" in tool[-1]:
        sys.exit(f"make gradbench: the {ev} eval failed (exit {evp.returncode}) with {tool[-1]}")
    return rows


def main():
    gb = sys.argv[1] if len(sys.argv) > 1 else ""
    if not gb or not os.path.isdir(os.path.join(gb, "python/gradbench/gradbench/evals")):
        sys.exit("make gradbench: set GRADBENCH to a GradBench work tree (with python/gradbench/"
                 "gradbench/evals), e.g. make gradbench GRADBENCH=/tmp/gradbench")
    gb = os.path.abspath(gb)
    env = dict(os.environ, PYTHONPATH=os.path.join(gb, "python/gradbench"), OMP_NUM_THREADS="1")
    cxx = "-std=c++17 -O3 -Wall -I../../cpp -I/usr/include/nlohmann"  # json.hpp: nlohmann-json3-dev
    torch = subprocess.run([PY, "-c", "import torch"], capture_output=True).returncode == 0
    for ev in EVALS:
        mk = subprocess.run(["make", "-s", "-C", "tools/manual", f"bin/{ev}", f"CXXFLAGS={cxx}"],
                            cwd=gb, capture_output=True, text=True)
        if mk.returncode:
            sys.exit(f"make gradbench: building GradBench's golden {ev} failed:\n{mk.stdout}{mk.stderr}")
        w = session(gb, env, ev, [os.path.join(HERE, "wengert-tool")])
        has_pt = torch and os.path.exists(os.path.join(gb, f"python/gradbench/gradbench/tools/pytorch/{ev}.py"))
        ptenv = dict(env, PYTHONPATH=env["PYTHONPATH"] + os.pathsep + os.path.join(gb, "python/gradbench/gradbench/tools/pytorch"))
        pt = session(gb, ptenv, ev, [PY, "-m", "gradbench.tools.pytorch.run"]) if has_pt else {}
        print(f"\n{ev}\n| size | function | valid | wengert s/eval | pytorch s/eval | wengert/pytorch |")
        print("|---|---|---|---|---|---|")
        for (desc, fn), (valid, sec) in w.items():
            ps = pt.get((desc, fn), [None, None])
            f = lambda v: "-" if v is None else f"{v:.3g}"
            ratio = f(sec / ps[1]) if sec and ps[1] and ps[0] else "-"
            pv = "" if not pt else f" (pytorch {'valid' if ps[0] else 'INVALID'})"
            print(f"| {desc or '-'} | {fn} | {'valid' if valid else 'INVALID'}{pv} | {f(sec)} | {f(ps[1])} | {ratio} |")


if __name__ == "__main__":
    main()
