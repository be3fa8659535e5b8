"""The nodal network of a crossbar (its conductances, S), in the form the solvers take.

(Formerly ``xbar.circuit.network.Network``; renamed ``NodalNetwork`` so that it is not mistaken
for the neural network ``xbar.train.Network``.)

Node (i, j) of the word-line layer is ``w[i, j]``, of the bit-line layer ``b[i, j]`` (see
docs/guide/circuit.rst, "Circuit conventions").  A terminal with zero resistance ties its end node to the source: that node
is *fixed*.  A floating terminal (NaN source voltage) has no connection at all.

``Problem`` holds one operator (one pattern of floating lines) and a batch of right-hand sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy import sparse

from ..exceptions import ConfigError


@dataclass
class NodalNetwork:
    """Conductances of a crossbar's nodal network, S.  ``inf`` marks a zero-resistance wire or
    terminal.

    Parameters
    ----------
    gc : (M, N) ndarray
        Effective cell conductances, S (access transistor and gate folded in; 0 = open cell).
    gw : (M, N-1) ndarray
        Word-line segment conductances, S.
    gb : (M-1, N) ndarray
        Bit-line segment conductances, S.
    g_driver : (M,) ndarray
        Driver (word-line terminal) conductances, S.
    g_sense : (N,) ndarray
        Sense (bit-line terminal) conductances, S.
    """

    gc: np.ndarray  # (M, N) effective cell conductance (access transistor and gate included)
    gw: np.ndarray  # (M, N-1) word-line segments
    gb: np.ndarray  # (M-1, N) bit-line segments
    g_driver: np.ndarray  # (M,)
    g_sense: np.ndarray  # (N,)

    @property
    def shape(self) -> tuple[int, int]:
        """(M, N): word lines, bit lines."""
        return self.gc.shape

    @property
    def ideal_wires(self) -> bool:
        """True if any wire segment has zero resistance (needs the direct solver)."""
        return bool(np.isinf(self.gw).any() or np.isinf(self.gb).any())


@dataclass
class Problem:
    """One operator plus a batch of right-hand sides, in the kernel's layout.

    Parameters
    ----------
    dw_extra, db_extra : (M, N) ndarray
        Terminal conductance at word and bit nodes (finite part), S.
    fixed_w, fixed_b : (M, N) uint8 ndarray
        1 where a node is tied to its source by a zero-resistance terminal.
    f : (B, 2MN) ndarray
        Injected currents, A.
    x : (B, 2MN) ndarray
        Node voltages, V: the initial guess holding the fixed values.
    """

    dw_extra: np.ndarray  # (M, N) terminal conductance at word nodes (finite part)
    db_extra: np.ndarray  # (M, N)
    fixed_w: np.ndarray  # (M, N) uint8
    fixed_b: np.ndarray  # (M, N) uint8
    f: np.ndarray  # (B, 2MN) injected currents, A
    x: np.ndarray  # (B, 2MN) initial guess holding the fixed values, V


def check_connected(net: NodalNetwork, row_driven: np.ndarray, col_driven: np.ndarray) -> None:
    """Raise ``ConfigError`` unless every line is connected to at least one driven terminal.

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    row_driven : (B, M) bool ndarray
        Word lines with a source, per batch item.
    col_driven : (B, N) bool ndarray
        Bit lines with a source, per batch item.
    """
    M, N = net.shape
    if not (row_driven.any(axis=1) | col_driven.any(axis=1)).all():
        raise ConfigError(
            "every line is floating: at least one row or column terminal needs a "
            "finite voltage to give the circuit a reference"
        )
    if (net.gc > 0).all():
        return  # every line meets every crossing line through a cell
    ii, jj = np.nonzero(net.gc > 0)
    graph = sparse.coo_matrix((np.ones(ii.size), (ii, M + jj)), shape=(M + N, M + N))
    ncomp, labels = connected_components(graph, directed=False)
    if ncomp == 1:
        return
    driven = np.concatenate([row_driven, col_driven], axis=1)  # (B, M+N)
    onehot = np.zeros((M + N, ncomp))
    onehot[np.arange(M + N), labels] = 1.0
    has_ref = (driven.astype(float) @ onehot) > 0  # (B, ncomp)
    if not has_ref.all():
        comp = int(np.argwhere(~has_ref)[0, 1])
        members = np.flatnonzero(labels == comp)
        rows = [int(k) for k in members if k < M]
        cols = [int(k - M) for k in members if k >= M]
        raise ConfigError(
            f"floating sub-network: word lines {rows} and bit lines {cols} have no "
            "driven terminal and no conducting cell to one (select their rows or "
            "drive a terminal)"
        )


def terminal_pattern(net: NodalNetwork, row_driven: np.ndarray, col_driven: np.ndarray):
    """The operator's terminal part for one pattern of driven lines (independent of G).

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    row_driven : (M,) bool ndarray
        Word lines with a source.
    col_driven : (N,) bool ndarray
        Bit lines with a source.

    Returns
    -------
    tuple
        Read-only ``(dw_extra, db_extra, fixed_w, fixed_b)`` as in :class:`Problem` (S, masks).
    """
    M, N = net.shape
    rfix = row_driven & np.isinf(net.g_driver)
    cfix = col_driven & np.isinf(net.g_sense)
    rres = row_driven & ~rfix
    cres = col_driven & ~cfix
    dw_extra = np.zeros((M, N))
    db_extra = np.zeros((M, N))
    dw_extra[rres, 0] = net.g_driver[rres]
    db_extra[M - 1, cres] = net.g_sense[cres]
    fixed_w = np.zeros((M, N), dtype=np.uint8)
    fixed_b = np.zeros((M, N), dtype=np.uint8)
    fixed_w[rfix, 0] = 1
    fixed_b[M - 1, cfix] = 1
    out = (dw_extra, db_extra, fixed_w, fixed_b)
    for arr in out:
        arr.flags.writeable = False
    return out


def build_problem(
    net: NodalNetwork,
    row_v: np.ndarray,
    col_v: np.ndarray,
    pattern: tuple | None = None,
    buffers: tuple | None = None,
) -> Problem:
    """Kernel inputs for source voltages ``row_v`` (B, M), ``col_v`` (B, N) sharing one NaN pattern.

    ``pattern`` is :func:`terminal_pattern` for that NaN pattern when the caller has it cached;
    ``buffers`` = two flat float64 arrays of at least B·2·M·N elements to hold ``f`` and ``x``
    (scratch the caller reuses) instead of new arrays.

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    row_v : (B, M) ndarray
        Word-line source voltages, V (NaN = floating; one pattern for the batch).
    col_v : (B, N) ndarray
        Bit-line source voltages, V (NaN = floating).
    pattern : tuple, optional
        :func:`terminal_pattern` of the NaN pattern.
    buffers : (ndarray, ndarray), optional
        Scratch for ``f`` and ``x``.

    Returns
    -------
    Problem
    """
    M, N = net.shape
    B = row_v.shape[0]
    rdrv = ~np.isnan(row_v[0])
    cdrv = ~np.isnan(col_v[0])
    rres = rdrv & ~np.isinf(net.g_driver)
    cres = cdrv & ~np.isinf(net.g_sense)
    if pattern is None:
        pattern = terminal_pattern(net, rdrv, cdrv)
    dw_extra, db_extra, fixed_w, fixed_b = pattern

    rv = np.where(rdrv, row_v, 0.0)
    cv = np.where(cdrv, col_v, 0.0)
    if buffers is None:
        f = np.zeros((B, 2, M, N))
        x = np.empty((B, 2, M, N))
    else:
        f = buffers[0][: B * 2 * M * N].reshape(B, 2, M, N)
        x = buffers[1][: B * 2 * M * N].reshape(B, 2, M, N)
        f.fill(0.0)
    f[:, 0, rres, 0] = rv[:, rres] * net.g_driver[rres]
    f[:, 1, M - 1, cres] = cv[:, cres] * net.g_sense[cres]
    # Initial guess: every word line at its source, every bit line at its terminal (the ideal
    # array); floating lines start at the mean of the driven sources.
    ref = (
        np.concatenate([rv[:, rdrv], cv[:, cdrv]], axis=1).mean(axis=1)
        if (rdrv.any() or cdrv.any())
        else np.zeros(B)
    )
    x[:, 0] = np.where(rdrv, rv, ref[:, None])[:, :, None]
    x[:, 1] = np.where(cdrv, cv, ref[:, None])[:, None, :]
    return Problem(
        dw_extra, db_extra, fixed_w, fixed_b, f.reshape(B, 2 * M * N), x.reshape(B, 2 * M * N)
    )


def line_labels(net: NodalNetwork) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge nodes joined by zero-resistance wire: labels of word and bit nodes, and their count.

    Parameters
    ----------
    net : NodalNetwork
        The network, S (``inf`` segments merge their nodes).

    Returns
    -------
    lw, lb : (M, N) int ndarray
        Merged-node labels of the word and bit nodes.
    n : int
        Number of merged nodes.
    """
    M, N = net.shape
    lw = np.zeros((M, N), dtype=np.int64)
    if N > 1:
        lw[:, 1:] = np.cumsum(~np.isinf(net.gw), axis=1)
    lw += (np.arange(M) * N)[:, None]
    lb = np.zeros((M, N), dtype=np.int64)
    if M > 1:
        lb[1:, :] = np.cumsum(~np.isinf(net.gb), axis=0)
    lb += (np.arange(N) * M)[None, :]
    # compact
    uw, lw = np.unique(lw, return_inverse=True)
    ub, lb = np.unique(lb, return_inverse=True)
    lw = lw.reshape(M, N)
    lb = lb.reshape(M, N) + uw.size
    return lw, lb, uw.size + ub.size


def node_currents(
    net: NodalNetwork, prob: Problem, w: np.ndarray, b: np.ndarray, i_cell: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """KCL imbalance at every node, A: current leaving through the elements minus injection.

    ``w``, ``b`` are (B, M, N) node voltages and ``i_cell`` (B, M, N) the cell currents from word
    to bit line (any I-V).  Zero-resistance wires are skipped (they are internal to merged nodes).

    Parameters
    ----------
    net : NodalNetwork
        The network, S.
    prob : Problem
        Terminal part and injected currents (A).
    w, b : (B, M, N) ndarray
        Word-line and bit-line node voltages, V.
    i_cell : (B, M, N) ndarray
        Cell currents, A.

    Returns
    -------
    out_w, out_b : (B, M, N) ndarray
        Imbalance at the word and bit nodes, A.
    """
    B, M, N = w.shape
    fw = prob.f.reshape(B, 2, M, N)
    out_w = i_cell + prob.dw_extra * w - fw[:, 0]
    out_b = -i_cell + prob.db_extra * b - fw[:, 1]
    gw = np.where(np.isinf(net.gw), 0.0, net.gw)
    gb = np.where(np.isinf(net.gb), 0.0, net.gb)
    if N > 1:
        iw = gw * (w[:, :, :-1] - w[:, :, 1:])
        out_w[:, :, :-1] += iw
        out_w[:, :, 1:] -= iw
    if M > 1:
        ib = gb * (b[:, :-1, :] - b[:, 1:, :])
        out_b[:, :-1, :] += ib
        out_b[:, 1:, :] -= ib
    return out_w, out_b


#: Rounding of one nodal KCL sum relative to ``|A||x| + |f|`` (one unit roundoff: a typical
#: value; the worst case over a node's ~6 terms is a few times larger).
FLOOR_EPS = float(np.finfo(float).eps)


def current_errors(
    net: NodalNetwork,
    prob: Problem,
    w: np.ndarray,
    b: np.ndarray,
    i_cell: np.ndarray | None = None,
    g_cell: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A-posteriori error estimates of the terminal currents, A: ``(rows (B, M), cols (B, N))``,
    and the largest KCL imbalance over free nodes (B,), A (zero-resistance wires are internal
    to merged nodes: their group sums are the residuals).

    A current ``e`` left unbalanced at a free node (the KCL residual, plus the rounding floor
    ``FLOOR_EPS·(|A||x| + |f|)`` below which no float64 residual can be trusted) leaves the
    network through the terminals in fractions in [0, 1] that sum to 1 (the nodal matrix is an
    M-matrix; the fractions are the voltages of unit injections).  So the errors of all terminal
    currents together are about ``Σ e`` at most (a bound when FLOOR_EPS covers the worst-case
    rounding of each node's sum, a few eps).  Per terminal the
    estimate keeps what is local: a column gets every bit node of its line and the share
    ``gc/diag`` of each word node that crosses into it through the cell, a row the converse;
    the nodes of a floating line give all of theirs to the crossing lines.

    Parameters
    ----------
    net, prob, w, b :
        As in :func:`node_currents` (S, A, V).
    i_cell : (B, M, N) ndarray, optional
        Cell currents of nonlinear cells, A (default: linear, ``net.gc·(w − b)``).
    g_cell : (B, M, N) ndarray, optional
        Differential conductances of nonlinear cells, S (default ``net.gc``).

    Returns
    -------
    rows : (B, M) ndarray
        Error estimates of the row currents, A.
    cols : (B, N) ndarray
        Error estimates of the column currents, A.
    imbalance : (B,) ndarray
        Largest KCL imbalance over the free nodes, A.
    """
    B, M, N = w.shape
    gd = net.gc if g_cell is None else g_cell
    if i_cell is None:
        i_cell = net.gc * (w - b)
    out_w, out_b = node_currents(net, prob, w, b, i_cell)
    fw = prob.f.reshape(B, 2, M, N)
    gw = np.where(np.isinf(net.gw), 0.0, net.gw)
    gb = np.where(np.isinf(net.gb), 0.0, net.gb)
    aw, ab = np.abs(w), np.abs(b)
    # |A||x| + |f| per node (cells: |I| + dI/dV·(|w| + |b|), the rounding of w − b propagated).
    cell = np.abs(i_cell) + gd * (aw + ab)
    s_w = cell + prob.dw_extra * aw + np.abs(fw[:, 0])
    s_b = cell + prob.db_extra * ab + np.abs(fw[:, 1])
    diag_w = np.broadcast_to(gd + prob.dw_extra, w.shape).copy()
    diag_b = np.broadcast_to(gd + prob.db_extra, w.shape).copy()
    if N > 1:
        t = gw * (aw[:, :, :-1] + aw[:, :, 1:])
        s_w[:, :, :-1] += t
        s_w[:, :, 1:] += t
        diag_w[:, :, :-1] += gw
        diag_w[:, :, 1:] += gw
    if M > 1:
        t = gb * (ab[:, :-1, :] + ab[:, 1:, :])
        s_b[:, :-1, :] += t
        s_b[:, 1:, :] += t
        diag_b[:, :-1, :] += gb
        diag_b[:, 1:, :] += gb
    e_w = np.abs(out_w) + FLOOR_EPS * s_w
    e_b = np.abs(out_b) + FLOOR_EPS * s_b
    imbalance = np.zeros(B)
    if net.ideal_wires:
        # Merged nodes: only the group's KCL sum is a residual; share it among the members.
        lw, lb, n = line_labels(net)
        labels = np.concatenate([lw.ravel(), lb.ravel()])
        size = np.bincount(labels, minlength=n)
        fixed = np.zeros(n, dtype=bool)
        fixed[labels[np.concatenate([prob.fixed_w.ravel(), prob.fixed_b.ravel()]) > 0]] = True
        for k in range(B):
            sums = np.bincount(
                labels, weights=np.concatenate([out_w[k].ravel(), out_b[k].ravel()]), minlength=n
            )
            floor = np.bincount(
                labels, weights=np.concatenate([s_w[k].ravel(), s_b[k].ravel()]), minlength=n
            )
            share = np.where(fixed, 0.0, (np.abs(sums) + FLOOR_EPS * floor) / size)[labels]
            imbalance[k] = np.abs(sums[~fixed]).max(initial=0.0)
            e_w[k] = share[: M * N].reshape(M, N)
            e_b[k] = share[M * N :].reshape(M, N)
    e_w[:, prob.fixed_w > 0] = 0.0
    e_b[:, prob.fixed_b > 0] = 0.0
    if not net.ideal_wires:
        out_w[:, prob.fixed_w > 0] = 0.0
        out_b[:, prob.fixed_b > 0] = 0.0
        imbalance = np.maximum(np.abs(out_w).max(axis=(1, 2)), np.abs(out_b).max(axis=(1, 2)))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho_w = np.where(diag_w > 0, gd / diag_w, 0.0)
        rho_b = np.where(diag_b > 0, gd / diag_b, 0.0)
    # A floating line has no way out but its cells: all of its nodes' errors cross them.
    row_term = (prob.dw_extra[:, 0] > 0) | (prob.fixed_w[:, 0] > 0)
    col_term = (prob.db_extra[-1] > 0) | (prob.fixed_b[-1] > 0)
    rho_w = np.where(row_term[:, None], rho_w, 1.0)
    rho_b = np.where(col_term[None, :], rho_b, 1.0)
    col = (e_b + rho_w * e_w).sum(axis=1)
    row = (e_w + rho_b * e_b).sum(axis=2)
    return row, col, imbalance
