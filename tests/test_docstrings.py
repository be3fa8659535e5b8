"""Every public function and class of the listed modules documents its parameters (numpydoc).

Checked with ``numpydoc.validate`` for the checks that matter to a reader: ``GL08`` (no docstring),
``PR01`` (a parameter of the signature is not documented) and ``PR02`` (a documented parameter is
not in the signature).  Public = named in the module's ``__all__`` (else not starting with ``_``)
and defined in that module; for classes also their public methods, except a method overriding a
documented method of a base class (its documentation is the base's, as ``inspect.getdoc`` has
it), and without the constructor check for a ``typing.Protocol`` (it has no constructor).  ``MODULES`` is every public
module except the deprecated import shims; ``python tests/test_docstrings.py -v`` lists the
findings.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import sys

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

CHECKS = ("GL08", "PR01", "PR02")

# Deprecated import shims (they warn on import and re-export): not held to the check.
SHIMS = ("xbar.circuit.network", "xbar.train.fit", "xbar.train.mapping")


def _all_modules() -> list[str]:
    """Every public module of the package (no ``_private`` part), the package itself first."""
    import xbar

    mods = ["xbar"]
    for info in pkgutil.walk_packages(xbar.__path__, "xbar."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        if info.name.startswith("xbar.torch") and importlib.util.find_spec("torch") is None:
            continue
        mods.append(info.name)
    return mods


# every public module: a new module is held to the check from its first commit
MODULES = tuple(m for m in _all_modules() if m not in SHIMS)

# modules that need an optional dependency to import
_NEEDS = {"xbar.torch": "torch"}


def public_objects(modname: str) -> list[str]:
    """Dotted paths of the public functions, classes and class methods defined in ``modname``."""
    mod = importlib.import_module(modname)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [n for n in vars(mod) if not n.startswith("_")]
    out = []
    for name in names:
        obj = getattr(mod, name, None)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != modname:
            continue
        if not getattr(obj, "_is_protocol", False):
            out.append(f"{modname}.{name}")
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not inspect.isfunction(member):
                    continue
                if any(
                    getattr(getattr(base, attr, None), "__doc__", None)
                    for base in obj.__mro__[1:]
                    if base is not object
                ):
                    continue  # documented by the base class
                out.append(f"{modname}.{name}.{attr}")
    return out


def failures(modname: str) -> list[tuple[str, str, str]]:
    """``(object, code, message)`` of every failed check in ``modname``."""
    bad = []
    for path in public_objects(modname):
        res = numpydoc_validate.validate(path)
        bad += [(path, code, msg) for code, msg in res["errors"] if code in CHECKS]
    return bad


@pytest.mark.parametrize("modname", MODULES)
def test_public_objects_document_their_parameters(modname):
    for prefix, dep in _NEEDS.items():
        if modname.startswith(prefix):
            pytest.importorskip(dep)
    bad = failures(modname)
    assert not bad, "\n".join(f"{p}: {c} {m}" for p, c, m in bad)


if __name__ == "__main__":  # count over the whole package
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)
    total, objects = 0, set()
    for m in _all_modules():
        try:
            bad = failures(m)
        except Exception as exc:  # optional dependency missing
            print(f"{m}: not checked ({type(exc).__name__}: {exc})")
            continue
        objects |= {p for p, _, _ in bad}
        total += len(bad)
        if bad and "-v" in sys.argv:
            for p, c, msg in bad:
                print(f"{p}: {c} {msg}")
    print(f"{len(objects)} failing objects ({total} findings of {', '.join(CHECKS)})")
