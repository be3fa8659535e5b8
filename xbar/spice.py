"""Export a crossbar to a SPICE netlist and solve it with ngspice (an independent reference).

Node names: ``w{i}_{j}`` word-line nodes, ``b{i}_{j}`` bit-line nodes, ``m{i}_{j}`` the node between
a 1T1R cell's access transistor (modelled by its on-resistance) and its memristor.  Row sources are
``VR{i}``, column sources ``VC{j}``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .exceptions import ConfigError, XbarError


@dataclass(frozen=True)
class SpiceResult:
    """Operating point from ngspice: node voltages (V) and terminal currents (A), xbar's signs.

    Parameters
    ----------
    v_wordline, v_bitline : (M, N) ndarray
        Word- and bit-line node voltages, V.
    row_currents : (M,) ndarray
        Current from each driver source into its word line, A (0 for a floating line).
    col_currents : (N,) ndarray
        Current out of each bit line into its terminal source, A (0 for a floating line).
    netlist : str
        The circuit's netlist as exported (without the analysis cards ``run`` appends).
    """

    v_wordline: np.ndarray
    v_bitline: np.ndarray
    row_currents: np.ndarray
    col_currents: np.ndarray
    netlist: str


def ngspice_available() -> bool:
    """True if an ``ngspice`` executable is on PATH."""
    return shutil.which("ngspice") is not None


# Newton tolerances 10x tighter than the 1e-9 agreement the tests ask for; at 1e-12 ngspice's own
# iteration can stall for minutes on 64x64 sinh arrays.
_OPTIONS = ".options reltol=1e-10 vntol=1e-13 abstol=1e-16"


def netlist(
    xb, row_voltages, col_voltages, *, title: str = "xbar crossbar", analysis: bool = True
) -> str:
    """SPICE netlist of crossbar ``xb`` under the given terminal source voltages (V).

    Linear cells are resistors ``RC{i}_{j}`` of ``1/G`` ohm; nonlinear cells (``xbar.iv.Sinh``, or
    ``xbar.iv.Asymmetric`` without a selector) are behavioural current sources ``BC{i}_{j}``
    (other I-V models raise ``ConfigError``).  A 1T1R access transistor is its on-resistance
    ``RA{i}_{j}``; a cell whose gate is off is left out.  Floating lines (NaN) get no source.

    Parameters
    ----------
    xb : xbar.Crossbar
        The array (every wire segment > 0 ohm).
    row_voltages : (M,) array_like
        Word-line driver source voltages, V (NaN = floating).
    col_voltages : (N,) array_like
        Bit-line terminal source voltages, V (NaN = floating).
    title : str
        The netlist's title line.
    analysis : bool
        Append the analysis cards (default): tight tolerances, ``.op``, and a ``.control`` block
        setting 15 printed digits, so ``ngspice -b file.cir`` runs the operating point and prints
        every node voltage (``w{i}_{j}``, ``b{i}_{j}``; V) and source current (``vr{i}#branch``
        = −row current, ``vc{j}#branch`` = column current; A).  Without it the netlist has no
        analysis (for callers that add their own).
    """
    M, N = xb.shape
    rv = np.asarray(row_voltages, dtype=float).reshape(M)
    cv = np.asarray(col_voltages, dtype=float).reshape(N)
    if (xb.r_wordline == 0).any() or (xb.r_bitline == 0).any():
        raise ConfigError("SPICE export needs every wire segment > 0 ohm")
    iv = getattr(xb, "iv", None)
    lines = [f"* {title}: {M}x{N}, cell {xb.cell}"]
    for i in range(M):
        if np.isnan(rv[i]):
            continue
        if xb.r_driver[i] == 0:
            lines.append(f"VR{i} w{i}_0 0 DC {rv[i]:.17g}")
        else:
            lines.append(f"VR{i} dr{i} 0 DC {rv[i]:.17g}")
            lines.append(f"RD{i} dr{i} w{i}_0 {xb.r_driver[i]:.17g}")
    for j in range(N):
        if np.isnan(cv[j]):
            continue
        if xb.r_sense[j] == 0:
            lines.append(f"VC{j} b{M - 1}_{j} 0 DC {cv[j]:.17g}")
        else:
            lines.append(f"RS{j} b{M - 1}_{j} sc{j} {xb.r_sense[j]:.17g}")
            lines.append(f"VC{j} sc{j} 0 DC {cv[j]:.17g}")
    for i in range(M):
        for j in range(N - 1):
            lines.append(f"RW{i}_{j} w{i}_{j} w{i}_{j + 1} {xb.r_wordline[i, j]:.17g}")
    for i in range(M - 1):
        for j in range(N):
            lines.append(f"RB{i}_{j} b{i}_{j} b{i + 1}_{j} {xb.r_bitline[i, j]:.17g}")
    for i in range(M):
        for j in range(N):
            if not xb.select[i, j]:
                continue
            top = f"w{i}_{j}"
            if xb.cell == "1T1R" and xb.r_access[i, j] > 0:
                lines.append(f"RA{i}_{j} w{i}_{j} m{i}_{j} {xb.r_access[i, j]:.17g}")
                top = f"m{i}_{j}"
            if iv is None:
                lines.append(f"RC{i}_{j} {top} b{i}_{j} {1.0 / xb.G[i, j]:.17g}")
            else:
                expr = cell_current_expression(iv, f"V({top},b{i}_{j})", xb.G[i, j])
                lines.append(f"BC{i}_{j} {top} b{i}_{j} I={{{expr}}}")
    cards = [_OPTIONS, ".op", ".control", "set numdgt=15", ".endc"] if analysis else []
    return "\n".join([f"{title}", *lines, *cards, ".end", ""])


def cell_current_expression(iv, v: str, G: float) -> str:
    """Behavioural-source current (A) of a nonlinear cell with small-signal conductance G (S).

    Parameters
    ----------
    iv : IVModel
        The cell's I-V model.
    v : str
        SPICE expression of the cell voltage (V), e.g. ``v(a,b)``.
    G : float
        Small-signal conductance of the cell (S).
    """
    from . import iv as ivmod

    if isinstance(iv, ivmod.Sinh):
        return f"{G * iv.v0:.17g}*sinh(({v})/{iv.v0:.17g})"
    if isinstance(iv, ivmod.Asymmetric) and iv.selector is None:
        return (
            f"(({v}) >= 0 ? {G * iv.v0_pos:.17g}*sinh(({v})/{iv.v0_pos:.17g}) : "
            f"{G * iv.v0_neg:.17g}*sinh(({v})/{iv.v0_neg:.17g}))"
        )
    raise ConfigError(f"no SPICE expression for the I-V model {iv!r}")


def run(xb, row_voltages, col_voltages, *, timeout: float = 3600.0) -> SpiceResult:
    """Solve the crossbar's operating point with ngspice and return it in xbar's conventions.

    Parameters
    ----------
    xb : Crossbar
        The array (conductances, wires, terminals, I-V model).
    row_voltages : array_like, shape (M,)
        Word-line source voltages (V); NaN for a floating line.
    col_voltages : array_like, shape (N,)
        Bit-line source voltages (V); NaN for a floating line.
    timeout : float, default 3600.0
        Seconds before ngspice is stopped (s).
    """
    if not ngspice_available():
        raise XbarError("ngspice is not installed (Debian/Ubuntu: apt-get install -y ngspice)")
    M, N = xb.shape
    net = netlist(xb, row_voltages, col_voltages, analysis=False)
    with tempfile.TemporaryDirectory(prefix="xbar-spice-") as tmpname:
        tmp = Path(tmpname)
        body = net.rsplit(".end", 1)[0]
        control = f"{_OPTIONS}\n.control\nset filetype=ascii\nop\nwrite out.raw all\n.endc\n.end\n"
        (tmp / "x.cir").write_text(body + control)
        proc = subprocess.run(
            ["ngspice", "-b", "x.cir"], cwd=tmp, capture_output=True, text=True, timeout=timeout
        )
        raw = tmp / "out.raw"
        # ngspice -b exits 1 even after a good run; the rawfile is the proof of success.
        if not raw.exists():
            raise XbarError(f"ngspice failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
        values = _read_ascii_raw(raw)
    w = np.array([[values[f"v(w{i}_{j})"] for j in range(N)] for i in range(M)])
    b = np.array([[values[f"v(b{i}_{j})"] for j in range(N)] for i in range(M)])
    # ngspice reports the current into a source's + terminal.
    i_row = np.array([-values.get(f"i(vr{i})", 0.0) for i in range(M)])
    i_col = np.array([values.get(f"i(vc{j})", 0.0) for j in range(N)])
    return SpiceResult(w, b, i_row, i_col, net)


def _read_ascii_raw(path: Path) -> dict[str, float]:
    """Variables of a one-point ASCII rawfile, lower-cased names -> values."""
    lines = path.read_text().splitlines()
    start = lines.index("Variables:") + 1
    stop = lines.index("Values:")
    names = [ln.split()[1].lower() for ln in lines[start:stop]]
    nums = []
    for ln in lines[stop + 1 :]:
        parts = ln.split()
        if parts:
            nums.append(float(parts[-1]))
    if len(nums) != len(names):
        raise XbarError(f"{path}: expected {len(names)} values, read {len(nums)}")
    return dict(zip(names, nums))
