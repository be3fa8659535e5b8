"""``xbar read``: solve a crossbar stored as a conductance matrix (.npy, .npz or .csv, siemens)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ..exceptions import ConfigError

_EPILOG = """\
Output: the column currents (A) as CSV, one row per input vector, on stdout or in --out; then
'#' comment lines (ignored by numpy.loadtxt) with the power and energy split and, for --bias, the
voltages across the selected, half-selected and unselected cells."""


def register(sub) -> None:
    """Add the ``read`` sub-command to the ``xbar`` parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of the ``xbar`` parser (from ``ArgumentParser.add_subparsers``); the new
        sub-parser sets ``func`` to the function run with the parsed arguments.
    """
    p = sub.add_parser(
        "read",
        help="column currents of a conductance matrix under a bias",
        description=__doc__ + " Prints or saves the column currents (A), one per bit line.",
        epilog=_EPILOG,
    )
    p.add_argument(
        "conductances",
        type=str,
        help="(M, N) conductance matrix, S (.npy, .csv, or .npz with one array or PATH.npz:KEY)",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--v", type=float, help="the same voltage (V) on every word line")
    src.add_argument(
        "--v-file", type=str, help="(M,) or (B, M) input voltages, V (.npy, .npz or .csv)"
    )
    src.add_argument(
        "--bias",
        choices=["half", "third", "floating", "grounded"],
        help="select one cell with a passive-array bias scheme (needs --cell-index and --v-select)",
    )
    p.add_argument(
        "--cell-index",
        type=int,
        nargs=2,
        metavar=("I", "J"),
        help="selected cell for --bias (row I, column J, from 0)",
    )
    p.add_argument(
        "--v-select",
        type=float,
        default=None,
        help="selected-row voltage for --bias, V (required with --bias)",
    )
    p.add_argument(
        "--hardware",
        type=str,
        metavar="FILE",
        help="hardware TOML (xbar hardware dump): wires, cell, r_driver (dac), "
        "r_sense (tia.r_in), the device's I-V and the read duration (dac.t_read); "
        "the flags below override it",
    )
    p.add_argument(
        "--duration",
        type=float,
        default=None,
        help="duration of the read for the energy figures, s (default: the hardware's "
        "dac.t_read, else 100 ns, the ISAAC/PUMA 128x128 MVM)",
    )
    p.add_argument("--r-wordline", type=float, help="ohm per word-line segment (default 0)")
    p.add_argument("--r-bitline", type=float, help="ohm per bit-line segment (default 0)")
    p.add_argument("--r-driver", type=float, help="driver output resistance, ohm (default 0)")
    p.add_argument("--r-sense", type=float, help="sense input resistance, ohm (default 0)")
    p.add_argument("--cell", choices=["0T1R", "1T1R"], help="cell type (default 0T1R)")
    p.add_argument("--r-access", type=float, help="1T1R access transistor on-resistance, ohm")
    p.add_argument("--method", choices=["auto", "pcg", "direct", "transfer"], default="auto")
    p.add_argument(
        "--out", type=Path, help="save currents to this .npy or .csv instead of printing"
    )
    p.set_defaults(func=run)


def load_matrix(spec: "str | Path", what: str = "conductances") -> np.ndarray:
    """A numeric array from ``.npy``, ``.csv``/``.txt`` or ``.npz`` (one array, or ``PATH.npz:KEY``).

    Parameters
    ----------
    spec : str or pathlib.Path
        The file; for an ``.npz`` holding several arrays, ``PATH.npz:KEY`` names one.
    what : str, optional
        What the array is (default ``"conductances"``), used to name it in error messages.

    Returns
    -------
    numpy.ndarray
        The array as float64, in the file's units (the caller's convention: S for
        conductances, V for input voltages).

    Raises
    ------
    ConfigError
        If the file is missing, of an unsupported format, unreadable or not real numbers.
    """
    text = str(spec)
    key = None
    if ".npz:" in text:
        text, key = text.rsplit(":", 1)
    path = Path(text)
    if not path.exists():
        raise ConfigError(f"{what}: {path}: no such file")
    if not path.is_file():
        raise ConfigError(f"{what}: {path} is not a file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                if key is None and len(keys) != 1:
                    raise ConfigError(f"{what}: {path} holds arrays {keys}; name one as {path}:KEY")
                key = keys[0] if key is None else key
                if key not in keys:
                    raise ConfigError(f"{what}: {path} has no array {key!r} (it holds {keys})")
                arr = z[key]
        elif suffix in (".csv", ".txt"):
            arr = np.loadtxt(path, delimiter="," if suffix == ".csv" else None, ndmin=1)
        else:
            raise ConfigError(
                f"{what}: {path}: unsupported format {path.suffix!r} (use .npy, .npz or .csv)"
            )
    except ConfigError:
        raise
    except (OSError, ValueError, EOFError) as exc:
        raise ConfigError(f"{what}: {path}: not a readable numeric array ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise ConfigError(f"{what}: {path}: expected real numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64)


def _stats(v: np.ndarray) -> str:
    if v.size == 0:
        return "none"
    a = np.abs(v)
    return f"{v.size} cells, |V| min {a.min():.4g} V, mean {a.mean():.4g} V, max {a.max():.4g} V"


def summary_lines(sol, duration: float, cell=None) -> list[str]:
    """Comment lines: power and energy split of a solution and, with ``cell`` (i, j), the voltages
    across the selected, half-selected and unselected cells.

    Parameters
    ----------
    sol : xbar.circuit.solution.CircuitSolution
        The solved read (its ``power``, ``cell_voltages`` in V and ``cell_currents`` in A).
    duration : float
        Duration of the read, in s; energies (J) are power times this.
    cell : tuple of int or None, optional
        The selected cell ``(i, j)`` of a bias-scheme read; None (default) reports only the
        power and energy split.

    Returns
    -------
    list of str
        Lines starting with ``"# "`` (power in W, energy in J, voltages in V).
    """
    p = sol.power
    parts = {k: float(np.sum(v)) for k, v in p.as_dict().items()}
    lines = []
    cv = np.asarray(sol.cell_voltages)
    if cell is not None:
        i, j = cell
        M, N = cv.shape[-2:]
        sel = np.zeros((M, N), dtype=bool)
        sel[i, j] = True
        half = np.zeros((M, N), dtype=bool)
        half[i, :] = half[:, j] = True
        half &= ~sel
        e_cells = cv * np.asarray(sol.cell_currents) * duration
        lines += [
            f"# selected cell ({i}, {j}): {cv[i, j]:.6g} V",
            f"# half-selected (row {i} or column {j}): {_stats(cv[half])}",
            f"# unselected: {_stats(cv[~sel & ~half])}",
            f"# cell energy over {duration:.4g} s (J): selected {e_cells[sel].sum():.4g}, "
            f"half-selected {e_cells[half].sum():.4g}, unselected "
            f"{e_cells[~sel & ~half].sum():.4g}",
        ]
    lines.append(
        "# power (W): "
        + ", ".join(
            f"{k} {parts[k]:.4g}" for k in ("cells", "access", "wires", "drivers", "sense", "total")
        )
    )
    lines.append(
        f"# energy over {duration:.4g} s (J): "
        + ", ".join(
            f"{k} {parts[k] * duration:.4g}"
            for k in ("cells", "access", "wires", "drivers", "sense", "total")
        )
    )
    return lines


_FLAGS = ("r_wordline", "r_bitline", "r_driver", "r_sense", "cell", "r_access")


def crossbar_options(args) -> tuple[dict, float]:
    """``(Crossbar keyword arguments, read duration in s)`` from ``--hardware`` and the flags.

    Without ``--hardware`` every resistance defaults to 0 ohm (an ideal array) and the duration
    to 100 ns; with it, the hardware's values; an explicit flag overrides either.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``xbar read`` arguments: ``hardware`` (a hardware TOML path or None),
        ``duration`` (s or None), and the flags ``r_wordline``, ``r_bitline``, ``r_driver``,
        ``r_sense``, ``r_access`` (ohm) and ``cell`` (each None when not given).

    Returns
    -------
    tuple of (dict, float)
        The :class:`xbar.Crossbar` keyword arguments and the read duration in s.
    """
    if args.hardware:
        from ..config.hardware import load_hardware

        hw = load_hardware(args.hardware)
        kw = hw.crossbar_kwargs()
        duration = hw.dac.t_read
    else:
        kw = dict(r_wordline=0.0, r_bitline=0.0, r_driver=0.0, r_sense=0.0, cell="0T1R")
        duration = 100e-9
    for name in _FLAGS:
        value = getattr(args, name)
        if value is not None:
            kw[name] = value
    if kw.get("cell") == "0T1R" and args.r_access is None:
        kw.pop("r_access", None)  # the hardware's 1T1R access resistance, cell overridden
    return kw, (duration if args.duration is None else args.duration)


def run(args) -> int:
    """Solve the crossbar of ``xbar read`` and print or save its column currents.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed ``xbar read`` arguments (see ``xbar read --help``): the conductance file (S),
        the inputs (``v`` in V, ``v_file``, or ``bias`` with ``cell_index`` and ``v_select``
        in V), the circuit options of :func:`crossbar_options`, ``method`` and ``out``.

    Returns
    -------
    int
        Exit code 0.

    Raises
    ------
    ConfigError
        If an input is missing, malformed or of the wrong shape.
    """
    import xbar
    from .._io import open_atomic
    from .._validation import check_scalar

    kw, duration = crossbar_options(args)
    check_scalar(duration, "--duration", low=0.0, low_open=True, unit="s")
    if args.bias:
        if args.cell_index is None:
            raise ConfigError("--bias needs --cell-index I J (the selected cell)")
        if args.v_select is None:
            raise ConfigError("--bias needs --v-select V (the selected-row voltage, V)")
    G = np.atleast_2d(load_matrix(args.conductances))
    xb = xbar.Crossbar(G, **kw)
    M, N = xb.shape
    method = "auto" if args.method == "transfer" else args.method
    if args.bias:
        i, j = args.cell_index
        rv, cv = xbar.bias.scheme(args.bias, M, N, i, j, args.v_select)
        sol = xb.solve(rv, cv, method=method)
        out = sol.col_currents
        notes = summary_lines(sol, duration, (i, j))
    else:
        v = np.full(M, args.v) if args.v is not None else load_matrix(args.v_file, "--v-file")
        v2 = np.atleast_2d(v)
        if v.ndim > 2 or v2.shape[-1] != M:
            raise ConfigError(
                f"--v-file must hold (M,) or (B, M) voltages with M = {M}, got shape {v.shape}"
            )
        sol = xb.solve(v2, np.zeros((v2.shape[0], N)), method=method)
        out = (
            xb.read(v, method="transfer")
            if args.method == "transfer"
            else (sol.col_currents.reshape(v.shape[:-1] + (N,)))
        )
        notes = summary_lines(sol, duration)
        if v2.shape[0] > 1:
            notes[-2:] = [
                n.replace("# ", f"# summed over {v2.shape[0]} inputs: ", 1) for n in notes[-2:]
            ]
    if args.out is None:
        np.savetxt(sys.stdout, np.atleast_2d(out), fmt="%.10e", delimiter=",")
    elif args.out.suffix == ".npy":
        with open_atomic(args.out, "wb") as fh:
            np.save(fh, out)
    else:
        with open_atomic(args.out, "w") as fh:
            np.savetxt(fh, np.atleast_2d(out), fmt="%.17e", delimiter=",")
    print("\n".join(notes))
    return 0
