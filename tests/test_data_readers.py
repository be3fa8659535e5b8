"""Readers of the measured formats and the MNIST / image-folder loaders.

Synthetic files check parsing and error messages (file and line named); the real files, when
``XBAR_DATA_DIR`` is present, are checked against facts in their SOURCE.md.
"""

import gzip

import numpy as np
import pytest

import xbar.data as xd
from xbar.data import DataFormatError
from xbar.exceptions import ConfigError


def _root():
    try:
        return xd.data_dir()
    except ConfigError as exc:
        pytest.skip(f"measured data not available: {exc}")


# ------------------------------------------------------------------------------ data_dir
def test_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XBAR_DATA_DIR", str(tmp_path))
    assert xd.data_dir() == tmp_path
    monkeypatch.setenv("XBAR_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="XBAR_DATA_DIR"):
        xd.data_dir()


# --------------------------------------------------------------------------------- ramps
def test_pulse_ramps_synthetic(tmp_path):
    p = tmp_path / "set.csv"
    p.write_text("rmp1,rmp2\n1e-4,2e-4\n1.1e-4,2.1e-4\n1.2e-4,\n")
    r = xd.read_pulse_ramps(p, v_read=0.1)
    assert r.n_ramps == 2 and list(r.lengths) == [3, 2]
    np.testing.assert_allclose(r.ramp(0), [1e-3, 1.1e-3, 1.2e-3])
    np.testing.assert_allclose(r.ramp(1), [2e-3, 2.1e-3])


@pytest.mark.parametrize(
    "body, line, what",
    [
        ("rmp1,rmp2\n1e-4,2e-4\n1.1e-4,abc\n", 3, "not a number"),
        ("rmp1,rmp2\n1e-4,2e-4\n1.1e-4\n", 3, "fields"),
        ("rmp1,rmp2\n1e-4,\n1.1e-4,2e-4\n1e-4,2e-4\n", 2, "inside the ramp"),
    ],
)
def test_pulse_ramps_bad_lines_name_file_and_line(tmp_path, body, line, what):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(DataFormatError, match=what) as exc:
        xd.read_pulse_ramps(p)
    assert exc.value.line == line and f"bad.csv, line {line}" in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match="not found"):
        xd.read_pulse_ramps(tmp_path / "nope.csv")


# ---------------------------------------------------------------------------- relaxation
def _relax_lines(n):
    return "".join(f"{k}\t0.01\t{1e4 + k}\t{1 / (1e4 + k)}\t1e-4\t25\t0.01\n" for k in range(n))


def test_relaxation_synthetic_and_truncated(tmp_path):
    p = tmp_path / "relax.tsv.gz"
    p.write_bytes(gzip.compress(_relax_lines(2000).encode()))
    d = xd.read_relaxation(p)
    assert d.g.shape == (2000,) and d.level[0] == 25 and d.addr[5] == 5
    np.testing.assert_allclose(d.g, 1 / d.r)
    # truncate the compressed stream: the error names the file and the line where data stop
    raw = p.read_bytes()
    t = tmp_path / "trunc.tsv.gz"
    t.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataFormatError, match="truncated") as exc:
        xd.read_relaxation(t)
    assert "trunc.tsv.gz, line" in str(exc.value) and 1 < exc.value.line <= 2000


def test_relaxation_bad_field_count(tmp_path):
    p = tmp_path / "r.tsv"
    p.write_text(_relax_lines(3) + "7\t0.1\t1e4\n")
    with pytest.raises(DataFormatError, match="expected 7") as exc:
        xd.read_relaxation(p)
    assert exc.value.line == 4


def test_read_noise_synthetic(tmp_path):
    p = tmp_path / "ts.tsv.gz"
    rows = ["0\t0\t" + "\t".join(["1e-5"] * 50), "8\t0\t" + "\t".join(["6e-5"] * 50)]
    p.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    s = xd.read_read_noise(p, fs=400.0)
    assert list(s.levels) == [0, 8] and s.g.shape == (2, 50) and s.fs == 400.0
    p.write_bytes(gzip.compress(("\n".join([rows[0], rows[1][:-10]]) + "\n").encode()))
    with pytest.raises(DataFormatError) as exc:
        xd.read_read_noise(p)
    assert exc.value.line == 2


# ------------------------------------------------------------------------------ keithley
def _write_xlsx(path, runs, bad_cell=None):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, (v, i) in runs.items():
        ws = wb.create_sheet(name)
        ws.append(["Time", "AI", "AV", "VSET", "NORM_COND"])
        for k, (vv, ii) in enumerate(zip(v, i)):
            row = [0.01 * k, ii, vv, -1.2 if k == 0 else None, "#REF" if k == 0 else 0.1]
            ws.append(row)
    if bad_cell:
        wb[bad_cell[0]].cell(row=bad_cell[1], column=2, value="oops")
    st = wb.create_sheet("Settings")
    for name in runs:
        st.append(["=" * 10])
        st.append([name])
        st.append(["=" * 10])
        st.append(["Operation Mode", "Common", "Voltage Linear Sweep"])
        st.append(["Compliance", 0.105, 0.0005])
    wb.save(path)


def test_keithley_synthetic(tmp_path):
    v = np.linspace(0, -1, 11)
    runs = {"Run12": (v, 1e-4 * v), "Run9": (v, 2e-4 * v)}
    p = tmp_path / "endurance set.xlsx"
    _write_xlsx(p, runs)
    sweeps = xd.read_keithley_xlsx(p)
    assert [s.name for s in sweeps] == ["Run9", "Run12"] and [s.cycle for s in sweeps] == [1, 2]
    assert sweeps[0].kind == "set" and sweeps[0].compliance == 0.0005
    np.testing.assert_allclose(sweeps[0].i, 2e-4 * v)
    np.testing.assert_allclose(sweeps[1].v, v)
    assert sweeps[0].scalars["VSET"] == -1.2 and "NORM_COND" not in sweeps[0].scalars


def test_keithley_bad_cell_and_truncated(tmp_path):
    v = np.linspace(0, 1, 6)
    p = tmp_path / "reset.xlsx"
    _write_xlsx(p, {"Run1": (v, v)}, bad_cell=("Run1", 5))
    with pytest.raises(DataFormatError, match="'AI'") as exc:
        xd.read_keithley_xlsx(p)
    assert exc.value.line == 5 and "Run1" in str(exc.value) and "reset.xlsx" in str(exc.value)
    good = tmp_path / "good.xlsx"
    _write_xlsx(good, {"Run1": (v, v)})
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[:-200])
    with pytest.raises(DataFormatError, match="cut.xlsx"):
        xd.read_keithley_xlsx(cut)


# --------------------------------------------------------------------------------- mnist
def _idx(path, arr, magic_dims):
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    path.write_bytes(gzip.compress(head + arr.astype(np.uint8).tobytes()))


def test_mnist_synthetic(tmp_path):
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, size=(7, 28, 28))
    labs = rng.integers(0, 10, size=7)
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs, None)
    _idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labs, None)
    X, y = xd.load_mnist("test", root=tmp_path)
    np.testing.assert_array_equal(X, imgs)
    np.testing.assert_array_equal(y, labs)
    raw = (tmp_path / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(raw[:-30])
    with pytest.raises(DataFormatError, match="t10k-images"):
        xd.load_mnist("test", root=tmp_path)
    with pytest.raises(ConfigError, match="split"):
        xd.load_mnist("val", root=tmp_path)


@pytest.mark.data
def test_mnist_real():
    X, y = xd.load_mnist("test", root=_root() / "mnist")
    assert X.shape == (10000, 28, 28) and X.dtype == np.uint8 and X.max() == 255
    # class counts from mnist/SOURCE.md
    assert list(np.bincount(y)) == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ---------------------------------------------------------------------------------- images
def test_image_folder_synthetic(tmp_path):
    from PIL import Image

    for split in ("train",):
        for k, cls in enumerate(["b_cls", "a_cls"]):
            d = tmp_path / split / cls
            d.mkdir(parents=True)
            Image.new("RGB", (10, 8), (k * 100, 0, 0)).save(d / "x1.jpg")
            Image.new("L", (10, 8), 200).save(d / "x2.jpg")  # greyscale file
    X, y, classes = xd.load_image_folder(tmp_path, "train")
    assert classes == ["a_cls", "b_cls"] and X.shape == (4, 8, 10, 3) and list(y) == [0, 0, 1, 1]
    assert abs(int(X[1, 0, 0, 0]) - 200) <= 2 and abs(int(X[1, 0, 0, 2]) - 200) <= 2  # grey -> RGB
    X, y, _ = xd.load_image_folder(tmp_path, "train", size=(4, 4), max_per_class=1)
    assert X.shape == (2, 4, 4, 3)
    with pytest.raises(DataFormatError, match="split"):
        xd.load_image_folder(tmp_path, "test")


@pytest.mark.data
def test_image_folder_real():
    X, y, classes = xd.load_image_folder(_root() / "imagenette4", "test", size=16, max_per_class=5)
    assert classes == ["church", "english_springer", "parachute", "tench"]
    assert X.shape == (20, 16, 16, 3) and X.dtype == np.uint8
    X, _, _ = xd.load_image_folder(_root() / "imagenette4", "test", max_per_class=1)
    assert X.shape == (4, 224, 224, 3)


# ------------------------------------------------------------------------- real measured
@pytest.mark.data
def test_real_measured_files_match_source_facts():
    root = _root()
    sets = xd.read_keithley_xlsx(root / "tud-rram-iv-cycles" / "H16248L_M12_03_endurance_set.xlsx")
    assert len(sets) == 50 and all(s.v.size == 502 for s in sets)
    assert sets[0].name == "Run173" and sets[0].compliance == pytest.approx(5e-4)
    assert sets[0].v.min() == pytest.approx(-2.5)
    ramps = xd.read_pulse_ramps(root / "crosssim-pulse-ramps" / "reset.csv")
    assert ramps.n_ramps == 40 and ramps.lengths.min() == 149 and ramps.lengths.max() == 153
    assert 1.55e-3 < np.nanmin(ramps.g) and np.nanmax(ramps.g) < 2.55e-3
    noise = xd.read_read_noise(root / "stanford-rram-relaxation" / "techA_tsdata.min.tsv.gz")
    assert list(noise.levels) == [0, 8, 16, 24, 31] and noise.g.shape == (5, 100000)


# ------------------------------------------------------- readers keep every point (issue 14/18)
@pytest.mark.parametrize(
    "body, line, what",
    [
        ("rmp1,rmp2\n1e-4,2e-4\n1.1e-4,nan\n", 3, "not a finite current"),  # trailing nan
        ("rmp1,rmp2\n1e-4,2e-4\n1.1e-4,inf\n1.2e-4,\n", 3, "not a finite current"),
        ("rmp1,rmp2\n1e-4,2e-4\n1.1e-4,-2e-4\n", 3, "must be > 0"),  # negative current
    ],
)
def test_pulse_ramps_refuse_nan_inf_and_negative_currents(tmp_path, body, line, what):
    p = tmp_path / "bad.csv"
    p.write_text(body)
    with pytest.raises(DataFormatError, match=what) as exc:
        xd.read_pulse_ramps(p)
    assert exc.value.line == line and "bad.csv" in str(exc.value)


def test_pulse_ramps_blank_line_keeps_every_point_and_warns(tmp_path):
    p = tmp_path / "gap.csv"
    p.write_text("rmp1\n1e-4\n\n1.1e-4\n1.2e-4\n\n")
    with pytest.warns(xd.DataWarning, match=r"gap.csv.*line 3"):
        r = xd.read_pulse_ramps(p)
    np.testing.assert_allclose(r.ramp(0), [1e-3, 1.1e-3, 1.2e-3])


def test_pulse_ramps_bom_and_read_voltage(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufeffrmp1,rmp2\n1e-4,2e-4\n".encode("utf-8"))
    assert xd.read_pulse_ramps(p).names == ["rmp1", "rmp2"]
    for rv in (0.0, -0.1):
        with pytest.raises(ConfigError, match="v_read"):
            xd.read_pulse_ramps(p, v_read=rv)


@pytest.mark.parametrize("col, value", [(0, "3.5"), (5, "25.5")])
def test_relaxation_refuses_fractional_address_and_level(tmp_path, col, value):
    lines = _relax_lines(3).splitlines()
    parts = lines[1].split("\t")
    parts[col] = value
    lines[1] = "\t".join(parts)
    p = tmp_path / "r.tsv"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match="integer") as exc:
        xd.read_relaxation(p)
    assert exc.value.line == 2


def test_read_noise_refuses_fs_zero_nan_and_fractional_level(tmp_path):
    p = tmp_path / "ts.tsv"
    p.write_text("0\t0\t" + "\t".join(["1e-5"] * 10) + "\n")
    for fs in (0.0, -400.0):
        with pytest.raises(ConfigError, match="fs"):
            xd.read_read_noise(p, fs=fs)
    p.write_text("0\t0\t" + "\t".join(["1e-5"] * 9 + ["nan"]) + "\n")
    with pytest.raises(DataFormatError, match="not finite") as exc:
        xd.read_read_noise(p)
    assert exc.value.line == 1
    p.write_text("0.5\t0\t" + "\t".join(["1e-5"] * 10) + "\n")
    with pytest.raises(DataFormatError, match="integer"):
        xd.read_read_noise(p)


def test_keithley_blank_row_inside_a_sweep_keeps_every_point(tmp_path):
    """Before: the sweep ended at the first blank row (the audit's Run173 kept 98 of 502)."""
    openpyxl = pytest.importorskip("openpyxl")
    v = np.linspace(0, -1, 12)
    p = tmp_path / "set.xlsx"
    _write_xlsx(p, {"Run173": (v, 1e-4 * v)})
    wb = openpyxl.load_workbook(p)
    wb["Run173"].insert_rows(6)  # a blank row between data rows 4 and 5 (sheet row 6)
    wb.save(p)
    with pytest.warns(xd.DataWarning, match=r"set.xlsx.*Run173.*row 6"):
        (s,) = xd.read_keithley_xlsx(p)
    assert s.v.size == 12
    np.testing.assert_allclose(s.v, v)
    np.testing.assert_allclose(s.i, 1e-4 * v)


def test_read_voltage_is_a_deprecated_name_of_v_read(tmp_path):
    p = tmp_path / "ramps.csv"
    p.write_text("a,b\n1e-6,2e-6\n1.5e-6,2.5e-6\n")
    with pytest.warns(DeprecationWarning, match="v_read"):
        old = xd.read_pulse_ramps(p, read_voltage=0.2)
    new = xd.read_pulse_ramps(p, v_read=0.2)
    np.testing.assert_array_equal(old.g, new.g)
    assert new.v_read == 0.2
    with pytest.warns(DeprecationWarning, match="v_read"):
        assert new.read_voltage == 0.2


# ---------------------------------------------- issue 18: every point kept or reported
def _relax_with(line_no, col, value, n=4):
    lines = _relax_lines(n).splitlines()
    parts = lines[line_no - 1].split("\t")
    parts[col] = value
    lines[line_no - 1] = "\t".join(parts)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "col, value, what",
    [
        (3, "nan", r"column 4 \(g\).*not finite"),
        (1, "inf", r"column 2 \(time\).*not finite"),
        (4, "-inf", r"column 5 \(gi\).*not finite"),
        (3, "", "not a number"),  # an empty cell
        (3, "0.5", "g must be 1/r"),  # g in another unit than 1/r
        (1, "-0.01", "time since the first read"),
        (3, "-0.01", "implausible"),
    ],
)
def test_relaxation_nan_inf_empty_or_inconsistent_cell_names_file_row_column(
    tmp_path, col, value, what
):
    p = tmp_path / "r.tsv"
    p.write_text(_relax_with(3, col, value))
    with pytest.raises(DataFormatError, match=what) as exc:
        xd.read_relaxation(p)
    assert exc.value.line == 3 and "r.tsv" in str(exc.value)


def test_relaxation_blank_line_keeps_every_read_and_warns(tmp_path):
    """Before: a blank line raised '1 tab-separated fields' (now: skipped, reported, rows kept;
    a later bad row is still named by its line in the file)."""
    lines = _relax_lines(5).splitlines()
    p = tmp_path / "gap.tsv.gz"
    p.write_bytes(gzip.compress(("\n".join(lines[:2] + ["", ""] + lines[2:]) + "\n").encode()))
    with pytest.warns(xd.DataWarning, match=r"gap.tsv.gz.*line 3\.\.4"):
        d = xd.read_relaxation(p)
    assert d.addr.tolist() == [0, 1, 2, 3, 4]
    bad = lines[:2] + [""] + lines[2:4] + [lines[4].replace("\t25\t", "\t25.5\t")]
    p = tmp_path / "gap.tsv"
    p.write_text("\n".join(bad) + "\n")
    with pytest.warns(xd.DataWarning), pytest.raises(DataFormatError, match="integer") as exc:
        xd.read_relaxation(p)
    assert exc.value.line == 6


def test_read_noise_blank_line_and_empty_cell(tmp_path):
    row = "\t".join(["1e-5"] * 10)
    p = tmp_path / "ts.tsv"
    p.write_text(f"0\t0\t{row}\n\n8\t0\t{row}\n")
    with pytest.warns(xd.DataWarning, match=r"ts.tsv.*line 2"):
        s = xd.read_read_noise(p)
    assert s.levels.tolist() == [0, 8] and s.g.shape == (2, 10)
    p.write_text(f"0\t0\t{row}\n8\t0\t1e-5\t\t{row}\n")
    with pytest.raises(DataFormatError, match="column 4.*not a number") as exc:
        xd.read_read_noise(p)
    assert exc.value.line == 2
    p.write_text("\n\n")
    with pytest.raises(DataFormatError, match="no data"):
        xd.read_read_noise(p)


def test_pulse_ramps_row_of_empty_cells_inside_the_ramps_is_reported(tmp_path):
    """A row of empty cells (',') is not a blank line: inside a ramp it is a gap, named."""
    p = tmp_path / "gap.csv"
    p.write_text("rmp1,rmp2\n1e-4,2e-4\n,\n1.1e-4,2.1e-4\n")
    with pytest.raises(DataFormatError, match="inside the ramp") as exc:
        xd.read_pulse_ramps(p)
    assert exc.value.line == 3


def test_keithley_partly_empty_or_nan_row_is_reported(tmp_path):
    """A row with one empty cell or a NaN inside a sweep is named (sheet, row, column)."""
    openpyxl = pytest.importorskip("openpyxl")
    v = np.linspace(0, 1, 8)
    p = tmp_path / "reset.xlsx"
    _write_xlsx(p, {"Run3": (v, 1e-4 * v)})
    wb = openpyxl.load_workbook(p)
    wb["Run3"].cell(row=4, column=3).value = None  # AV of data row 3
    wb.save(p)
    with pytest.raises(DataFormatError, match=r"Run3.*'AV'.*not a number") as exc:
        xd.read_keithley_xlsx(p)
    assert exc.value.line == 4
    _write_xlsx(p, {"Run3": (v, 1e-4 * v)})
    wb = openpyxl.load_workbook(p)
    wb["Run3"].cell(row=5, column=2).value = float("nan")
    wb.save(p)
    with pytest.raises(DataFormatError, match=r"Run3.*'AI'") as exc:
        xd.read_keithley_xlsx(p)
    assert exc.value.line == 5


@pytest.mark.data
def test_real_relaxation_files_pass_the_consistency_checks():
    """g = 1/r on every line of the real files (the new unit-slip check does not fire)."""
    root = _root()
    for name in ("techB_relaxdata_10k.min.tsv.gz", "techC_relaxdata.min.tsv.gz"):
        d = xd.read_relaxation(root / "stanford-rram-relaxation" / name)
        assert d.g.size > 80000 and np.all(d.time >= 0)
