"""An independent dense nodal solver, written node by node for clarity, used as the reference.

It stamps every element into a dense conductance matrix (no shared code with xbar's solvers),
eliminates nodes tied to sources, and computes terminal currents by KCL at the terminal node.
"""

import numpy as np


def stamp(A, a, b, g):
    """Add conductance g between nodes a and b to the nodal matrix A."""
    A[a, a] += g
    A[b, b] += g
    A[a, b] -= g
    A[b, a] -= g


def dense_system(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access=None, select=None):
    """The stamped system: ``(A, f, x, fixed, M, N)`` with ``x`` holding the fixed values."""
    G = np.asarray(G, float)
    M, N = G.shape
    r_wl = np.broadcast_to(np.asarray(r_wl, float), (M, max(N - 1, 0)))
    r_bl = np.broadcast_to(np.asarray(r_bl, float), (max(M - 1, 0), N))
    r_drv = np.broadcast_to(np.asarray(r_drv, float), (M,))
    r_sns = np.broadcast_to(np.asarray(r_sns, float), (N,))
    n = 2 * M * N + M * N  # word, bit and internal 1T1R nodes

    def W(i, j):
        return i * N + j

    def Bn(i, j):
        return M * N + i * N + j

    def Mid(i, j):
        return 2 * M * N + i * N + j

    A = np.zeros((n, n))
    f = np.zeros(n)
    known = {}

    for i in range(M):
        for j in range(N):
            on = True if select is None else bool(np.broadcast_to(select, (M, N))[i, j])
            if not on:
                known[Mid(i, j)] = None  # unused node
                continue
            if r_access is None:
                stamp(A, W(i, j), Bn(i, j), G[i, j])
                known[Mid(i, j)] = None
            else:
                stamp(A, W(i, j), Mid(i, j), 1.0 / np.broadcast_to(r_access, (M, N))[i, j])
                stamp(A, Mid(i, j), Bn(i, j), G[i, j])
    for i in range(M):
        for j in range(N - 1):
            stamp(A, W(i, j), W(i, j + 1), 1.0 / r_wl[i, j])
    for i in range(M - 1):
        for j in range(N):
            stamp(A, Bn(i, j), Bn(i + 1, j), 1.0 / r_bl[i, j])
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
    return A, f, x, fixed, M, N


def dense_solve(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access=None, select=None):
    """(w, b, I_row, I_col) of the network, dense float64 solve of the free nodes."""
    A, f, x, fixed, M, N = dense_system(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, r_access, select)
    r_drv = np.broadcast_to(np.asarray(r_drv, float), (M,))
    r_sns = np.broadcast_to(np.asarray(r_sns, float), (N,))
    free = ~fixed

    def W(i, j):
        return i * N + j

    def Bn(i, j):
        return M * N + i * N + j

    x[free] = np.linalg.solve(A[np.ix_(free, free)], f[free] - A[np.ix_(free, fixed)] @ x[fixed])
    w = x[: M * N].reshape(M, N)
    b = x[M * N : 2 * M * N].reshape(M, N)
    # Terminal currents by KCL at the terminal node: what its elements deliver to the source.
    Ax = A @ x
    i_row = np.zeros(M)
    for i in range(M):
        if np.isnan(v_row[i]):
            continue
        k = W(i, 0)
        if r_drv[i] == 0:
            i_row[i] = Ax[k]  # net current leaving the node into the network
        else:
            i_row[i] = (v_row[i] - x[k]) / r_drv[i]
    i_col = np.zeros(N)
    for j in range(N):
        if np.isnan(v_col[j]):
            continue
        k = Bn(M - 1, j)
        if r_sns[j] == 0:
            i_col[j] = -Ax[k]  # net current arriving at the node from the network
        else:
            i_col[j] = (x[k] - v_col[j]) / r_sns[j]
    return w, b, i_row, i_col


def dense_newton(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col, iv_fn, tol=1e-15, maxit=100):
    """Dense Newton for 0T1R arrays with nonlinear cells; ``iv_fn(V, G) -> (I, dI/dV)``.

    Unknowns are every word and bit node; terminals with zero resistance fix their node.  Plain
    undamped Newton from the linear solution, dense ``numpy.linalg.solve`` each step.
    """
    G = np.asarray(G, float)
    M, N = G.shape
    w0, b0, _, _ = dense_solve(G, r_wl, r_bl, r_drv, r_sns, v_row, v_col)
    A_lin = np.zeros((2 * M * N, 2 * M * N))
    f = np.zeros(2 * M * N)
    fixed = np.zeros(2 * M * N, bool)
    xfix = np.zeros(2 * M * N)
    r_wl = np.broadcast_to(np.asarray(r_wl, float), (M, max(N - 1, 0)))
    r_bl = np.broadcast_to(np.asarray(r_bl, float), (max(M - 1, 0), N))

    for i in range(M):
        for j in range(N - 1):
            stamp(A_lin, i * N + j, i * N + j + 1, 1 / r_wl[i, j])
    for i in range(M - 1):
        for j in range(N):
            stamp(A_lin, M * N + i * N + j, M * N + (i + 1) * N + j, 1 / r_bl[i, j])
    for i in range(M):
        if np.isnan(v_row[i]):
            continue
        k = i * N
        if r_drv == 0:
            fixed[k], xfix[k] = True, v_row[i]
        else:
            A_lin[k, k] += 1 / r_drv
            f[k] += v_row[i] / r_drv
    for j in range(N):
        if np.isnan(v_col[j]):
            continue
        k = M * N + (M - 1) * N + j
        if r_sns == 0:
            fixed[k], xfix[k] = True, v_col[j]
        else:
            A_lin[k, k] += 1 / r_sns
            f[k] += v_col[j] / r_sns
    C = np.zeros((M * N, 2 * M * N))  # cell voltage = C x
    C[np.arange(M * N), np.arange(M * N)] = 1.0
    C[np.arange(M * N), M * N + np.arange(M * N)] = -1.0
    x = np.concatenate([w0.ravel(), b0.ravel()])
    free = ~fixed
    for _ in range(maxit):
        I, g = iv_fn(C @ x, G.ravel())
        F = A_lin @ x + C.T @ I - f
        if np.linalg.norm(F[free]) <= tol * max(np.linalg.norm(f), 1e-30):
            break
        J = A_lin + C.T @ (g[:, None] * C)
        x[free] -= np.linalg.solve(J[np.ix_(free, free)], F[free])
    w = x[: M * N].reshape(M, N)
    b = x[M * N :].reshape(M, N)
    return w, b
