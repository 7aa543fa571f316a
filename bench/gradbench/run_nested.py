#!/usr/bin/env python3
"""The higher-order evals (kmeans, saddle, particle) against wengert-tool, beside GradBench's
manual and PyTorch tools where the snapshot has them (kmeans), with run.py's session():

    make build/gradbench/wengert-nested
    /usr/bin/python3 bench/gradbench/run_nested.py <GradBench work tree> [eval ...]

Prints, per eval, size and function: valid or not, the median seconds per evaluation of each
tool, and wengert's ratio to each. saddle and particle have no manual or PyTorch tool in the
snapshot; their evals check the output against fixed numbers."""
import os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (session(), PY, SHIM)

ARGS = {"kmeans": "-k 10 100 1000 -n 1000 10000 -d 8 16 --min-seconds 0.2",
        "saddle": "--min-runs 3 --min-seconds 0", "particle": "--min-runs 1 --min-seconds 0"}
CXX = "-std=c++17 -O3 -Wall -I../../cpp -I/usr/include/nlohmann"  # json.hpp: nlohmann-json3-dev


def main():
    gb = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
    if not os.path.isdir(os.path.join(gb, "python/gradbench/gradbench/evals")):
        sys.exit("run_nested.py: give a GradBench work tree (with python/gradbench/gradbench/evals)")
    env = dict(os.environ, PYTHONPATH=os.path.join(gb, "python/gradbench"), OMP_NUM_THREADS="1",
               CXXFLAGS=CXX)
    run.EVALS.update(ARGS)
    for ev in sys.argv[2:] or list(ARGS):
        tools = {"wengert": (env, [os.path.join(run.HERE, "wengert-tool")])}
        if os.path.exists(os.path.join(gb, f"tools/manual/{ev}.cpp")):
            mk = subprocess.run(["make", "-s", "-C", "tools/manual", f"bin/{ev}", f"CXXFLAGS={CXX}"],
                                cwd=gb, capture_output=True, text=True)
            if mk.returncode:
                sys.exit(f"run_nested.py: building GradBench's manual {ev} failed:\n{mk.stderr}")
            tools["manual"] = (env, [run.PY, "-m", "gradbench.cpp", "manual"])
        pt = os.path.join(gb, "python/gradbench/gradbench/tools/pytorch")
        if os.path.exists(os.path.join(pt, f"{ev}.py")):
            tools["pytorch"] = (dict(env, PYTHONPATH=env["PYTHONPATH"] + os.pathsep + pt),
                                [run.PY, "-m", "gradbench.tools.pytorch.run"])
        res = {name: run.session(gb, e, ev, cmd) for name, (e, cmd) in tools.items()}
        peers = [p for p in tools if p != "wengert"]
        f = lambda v: "-" if v is None else f"{v:.3g}"
        print(f"\n{ev}\n| size | function | valid | " + " | ".join(f"{p} s/eval" for p in tools)
              + "".join(f" | wengert/{p}" for p in peers) + " |")
        print("|---" * (3 + len(tools) + len(peers)) + "|")
        for (desc, fn), (valid, sec) in res["wengert"].items():
            row = [desc or "-", fn, "valid" if valid else "INVALID"]
            got = {p: res[p].get((desc, fn), [None, None]) for p in tools}
            row += [f(got[p][1]) + ("" if got[p][0] or p == "wengert" else " (INVALID)") for p in tools]
            row += [f(sec / got[p][1]) if sec and got[p][1] else "-" for p in peers]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
