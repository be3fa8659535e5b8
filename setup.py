"""Build the Cython kernels in ``xbar/_kernels``.

Every ``xbar/_kernels/*.pyx`` becomes an extension module; compiler directives live here only.
Set ``XBAR_DEBUG_KERNELS=1`` to build with bounds checking and without ``-O3`` (a test job), and
``XBAR_SANITIZE=address`` to add AddressSanitizer (``.ci/asan`` builds both into a throwaway copy
and runs the kernel tests under it; the host Python then needs libasan preloaded).
"""

import os
import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("XBAR_DEBUG_KERNELS", "0") == "1"
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "nonecheck": False,
}
SANITIZE = os.environ.get("XBAR_SANITIZE", "")
COMPILE_ARGS = ["-O0", "-g"] if DEBUG else ["-O3"]
LINK_ARGS = []
if SANITIZE:
    COMPILE_ARGS += [f"-fsanitize={SANITIZE}", "-fno-omit-frame-pointer", "-g"]
    LINK_ARGS += [f"-fsanitize={SANITIZE}"]
OPENMP = ["-fopenmp"]

KERNELS = Path("xbar/_kernels")
# Every kernel file is one algorithm: _pcg (linear PCG, with _pcg.pxd for the Newton kernel's
# cimports), _newton, _scratch (the scratch pool), _maps, _reads, _quantize, _pulse_update.
# An in-place build removes compiled modules whose source is gone (the former _line_pcg would
# otherwise shadow its Python compatibility module of the same name).
if "build_ext" in sys.argv and "--inplace" in sys.argv:
    sources = {pyx.stem for pyx in KERNELS.glob("*.pyx")}
    for so in KERNELS.glob("*.so"):
        if so.name.split(".")[0] not in sources:
            so.unlink()

extensions = [
    Extension(
        f"xbar._kernels.{pyx.stem}",
        [str(pyx)],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=COMPILE_ARGS + OPENMP,
        extra_link_args=OPENMP + LINK_ARGS,
    )
    for pyx in sorted(KERNELS.glob("*.pyx"))
]

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES, nthreads=2))
