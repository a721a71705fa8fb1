"""Our parametric evolutionary embedding against ParaDime's parametric t-SNE (one model per step), on
the benchmark family (`tdl.synthetic.branching`, 50 steps x 200 instances x 512-d): train on 160
instances, place the 40 held-out ones, and compare, per chosen step, the held-out instances' 7-NN
group accuracy (their 7 nearest training points in 2D vote for the group), and for ours the share of
held-out points in their own ring. ParaDime (pip install paradime) needs cerberus, ruamel.yaml and
pynndescent; it declares numpy < 1.23 but imports with numpy 2 here.

    PYTHONPATH=/path/to/paradime python bench/tdl_paradime.py --epochs 100
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdl.metrics import step_separation  # noqa: E402
from tdl.parametric import ParametricConfig, ParametricEmbedding  # noqa: E402
from tdl.synthetic import branching  # noqa: E402


def knn_accuracy(Y_train, lab_train, Y_test, lab_test, k: int = 7) -> float:
    d = torch.cdist(torch.as_tensor(Y_test, dtype=torch.float64), torch.as_tensor(Y_train, dtype=torch.float64))
    idx = d.topk(k, largest=False).indices.numpy()
    votes = np.array([np.bincount(lab_train[i], minlength=lab_train.max() + 1).argmax() for i in idx])
    return float((votes == lab_test).mean())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, nargs="+", default=[10, 25, 49])
    ap.add_argument("--epochs", type=int, default=100)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    X, lab = branching(50, 200, 512)
    lab = lab.numpy()
    tr, te = np.arange(160), np.arange(160, 200)
    t0 = time.perf_counter()
    ours = ParametricEmbedding.fit(X[:, tr], ParametricConfig(epochs=args.epochs))
    t_ours = time.perf_counter() - t0
    Ytr, Yte = ours.embed_all(X[:, tr]), ours.embed_all(X[:, te])
    _, sep_te = step_separation(Yte, "radial")
    print(f"ours: {args.epochs} epochs on all 50 steps in {t_ours:.1f} s; held-out points in their ring: "
          f"min over steps {min(sep_te):.3f}")
    print("| step | ours: held-out 7-NN accuracy | ParaDime ParametricTSNE: held-out 7-NN accuracy | ParaDime s |")
    print("| ---: | ---: | ---: | ---: |")
    for s in args.steps:
        acc_ours = knn_accuracy(Ytr[s], lab[tr], Yte[s], lab[te])
        try:
            import paradime.routines as R
            t0 = time.perf_counter()
            dr = R.ParametricTSNE(perplexity=30, epochs=args.epochs, in_dim=X.shape[-1], verbose=False)
            dr.train(X[s, tr].numpy())
            ptr = np.asarray(dr.apply(X[s, tr].numpy()).detach().cpu() if torch.is_tensor(dr.apply(X[s, tr].numpy()))
                             else dr.apply(X[s, tr].numpy()))
            pte = dr.apply(X[s, te].numpy())
            pte = np.asarray(pte.detach().cpu() if torch.is_tensor(pte) else pte)
            acc_pd, t_pd = f"{knn_accuracy(ptr, lab[tr], pte, lab[te]):.3f}", f"{time.perf_counter() - t0:.1f}"
        except Exception as e:  # report why it did not run
            acc_pd, t_pd = f"failed: {type(e).__name__}: {str(e)[:80]}", "-"
        print(f"| {s} | {acc_ours:.3f} | {acc_pd} | {t_pd} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
