"""Direct sparse solve of the nodal system (scipy SuperLU, symmetric minimum-degree ordering).

Used when wires have zero resistance (nodes are merged), when one factorisation serves many
right-hand sides, and on request (``method="direct"``).  Exact to rounding.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from .nodal import NodalNetwork, Problem, line_labels


def assemble(net: NodalNetwork, prob: Problem):
    """Nodal matrix over merged nodes and the map node -> merged index.

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    prob : Problem
        The terminal part (S) and fixed nodes.

    Returns
    -------
    A : scipy.sparse.csc_matrix
        Nodal conductance matrix over the merged nodes, S.
    labels : (2MN,) int ndarray
        Merged node of each word then bit node.
    fixed : bool ndarray
        Merged nodes that hold a fixed (source) voltage.
    """
    M, N = net.shape
    lw, lb, n = line_labels(net)
    rows, cols, vals = [], [], []

    def edge(a, b, g):
        keep = g > 0
        a, b, g = a[keep], b[keep], g[keep]
        rows.extend([a, b, a, b])
        cols.extend([a, b, b, a])
        vals.extend([g, g, -g, -g])

    edge(lw.ravel(), lb.ravel(), net.gc.ravel())
    if N > 1:
        fin = ~np.isinf(net.gw)
        edge(lw[:, :-1][fin], lw[:, 1:][fin], net.gw[fin])
    if M > 1:
        fin = ~np.isinf(net.gb)
        edge(lb[:-1, :][fin], lb[1:, :][fin], net.gb[fin])
    diag = np.bincount(
        np.concatenate([lw.ravel(), lb.ravel()]),
        weights=np.concatenate([prob.dw_extra.ravel(), prob.db_extra.ravel()]),
        minlength=n,
    )
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diag)
    A = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    ).tocsc()
    labels = np.concatenate([lw.ravel(), lb.ravel()])
    fixed = np.zeros(n, dtype=bool)
    fixed[labels[np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0]] = True
    return A, labels, fixed


def solve(net: NodalNetwork, prob: Problem) -> np.ndarray:
    """Node voltages (B, 2MN) for every right-hand side of ``prob`` (one factorisation).

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    prob : Problem
        Terminal part, injected currents (A) and fixed values (V).

    Returns
    -------
    (B, 2MN) ndarray
        Node voltages, V (word nodes then bit nodes).
    """
    A, labels, fixed = assemble(net, prob)
    n = A.shape[0]
    B = prob.f.shape[0]
    # Injected currents and fixed values per merged node.
    F = np.zeros((n, B))
    np.add.at(F, labels, prob.f.T)
    X = np.zeros((n, B))
    fix_nodes = np.flatnonzero(np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]))
    X[labels[fix_nodes]] = prob.x[:, fix_nodes].T
    free = ~fixed
    A_ff = A[free][:, free].tocsc()
    rhs = F[free] - A[free][:, fixed] @ X[fixed]
    if A_ff.shape[0]:
        lu = splu(
            A_ff, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
        X[free] = lu.solve(np.ascontiguousarray(rhs))
    return X[labels].T.copy()
