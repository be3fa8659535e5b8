"""An independent dense nodal solver, written node by node for clarity, used as the reference.

It stamps every element into a dense conductance matrix (no shared code with xbar's solvers),
eliminates nodes tied to sources, and computes terminal currents by KCL at the terminal node.
"""
import numpy as np


def dense_solve(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access=None, select=None):
    G = np.asarray(G, float)
    M, N = G.shape
    r_wl = np.broadcast_to(np.asarray(r_wl, float), (M, max(N - 1, 0)))
    r_bl = np.broadcast_to(np.asarray(r_bl, float), (max(M - 1, 0), N))
    r_drv = np.broadcast_to(np.asarray(r_drv, float), (M,))
    r_sns = np.broadcast_to(np.asarray(r_sns, float), (N,))
    n = 2 * M * N + M * N          # word, bit and internal 1T1R nodes

    def W(i, j):
        return i * N + j

    def Bn(i, j):
        return M * N + i * N + j

    def Mid(i, j):
        return 2 * M * N + i * N + j

    A = np.zeros((n, n))
    f = np.zeros(n)
    known = {}

    def stamp(a, b, g):
        A[a, a] += g
        A[b, b] += g
        A[a, b] -= g
        A[b, a] -= g

    for i in range(M):
        for j in range(N):
            on = True if select is None else bool(np.broadcast_to(select, (M, N))[i, j])
            if not on:
                known[Mid(i, j)] = None     # unused node
                continue
            if r_access is None:
                stamp(W(i, j), Bn(i, j), G[i, j])
                known[Mid(i, j)] = None
            else:
                stamp(W(i, j), Mid(i, j), 1.0 / np.broadcast_to(r_access, (M, N))[i, j])
                stamp(Mid(i, j), Bn(i, j), G[i, j])
    for i in range(M):
        for j in range(N - 1):
            stamp(W(i, j), W(i, j + 1), 1.0 / r_wl[i, j])
    for i in range(M - 1):
        for j in range(N):
            stamp(Bn(i, j), Bn(i + 1, j), 1.0 / r_bl[i, j])
    for i in range(M):
        if np.isnan(v_row[i]):
            continue
        if r_drv[i] == 0:
            known[W(i, 0)] = v_row[i]
        else:
            A[W(i, 0), W(i, 0)] += 1.0 / r_drv[i]
            f[W(i, 0)] += v_row[i] / r_drv[i]
    for j in range(N):
        if np.isnan(v_col[j]):
            continue
        if r_sns[j] == 0:
            known[Bn(M - 1, j)] = v_col[j]
        else:
            A[Bn(M - 1, j), Bn(M - 1, j)] += 1.0 / r_sns[j]
            f[Bn(M - 1, j)] += v_col[j] / r_sns[j]
    x = np.zeros(n)
    fixed = np.zeros(n, bool)
    for k, v in known.items():
        fixed[k] = True
        x[k] = 0.0 if v is None else v
    free = ~fixed
    x[free] = np.linalg.solve(A[np.ix_(free, free)], f[free] - A[np.ix_(free, fixed)] @ x[fixed])
    w = x[:M * N].reshape(M, N)
    b = x[M * N:2 * M * N].reshape(M, N)
    # Terminal currents by KCL at the terminal node: what its elements deliver to the source.
    Ax = A @ x
    i_row = np.zeros(M)
    for i in range(M):
        if np.isnan(v_row[i]):
            continue
        k = W(i, 0)
        if r_drv[i] == 0:
            i_row[i] = Ax[k]                   # net current leaving the node into the network
        else:
            i_row[i] = (v_row[i] - x[k]) / r_drv[i]
    i_col = np.zeros(N)
    for j in range(N):
        if np.isnan(v_col[j]):
            continue
        k = Bn(M - 1, j)
        if r_sns[j] == 0:
            i_col[j] = -Ax[k]                  # net current arriving at the node from the network
        else:
            i_col[j] = (x[k] - v_col[j]) / r_sns[j]
    return w, b, i_row, i_col
