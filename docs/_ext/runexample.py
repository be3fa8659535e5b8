"""Two directives that put the output of the current code into the pages.

``.. runexample:: examples/NAME.py``
    Runs the script (path relative to ``docs/``) in a fresh Python process with the checkout
    ``runexample_root`` (default: the parent of the source folder) on ``PYTHONPATH``, working
    directory ``docs/_example_output/NAME/`` and ``MPLBACKEND=Agg``, then shows its source, what
    it printed, and every ``*.png`` it wrote there.  A script that exits with an error, or runs
    longer than ``runexample_timeout`` seconds, is a build error.

``.. xbar-help:: [SUBCOMMAND ...]``
    The ``--help`` text of the ``xbar`` command (or of a sub-command), from its parser.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class RunExample(SphinxDirective):
    required_arguments = 1
    option_spec = {"hide-source": directives.flag}

    def run(self):
        src = Path(self.env.srcdir)
        script = (src / self.arguments[0]).resolve()
        self.env.note_dependency(str(script))
        out_dir = src / "_example_output" / script.stem
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.mkdir(parents=True)
        root = self.config.runexample_root or str(src.parent)
        env = dict(
            os.environ,
            MPLBACKEND="Agg",
            PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
        )
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [sys.executable, str(script)],
                cwd=out_dir,
                env=env,
                capture_output=True,
                text=True,
                timeout=self.config.runexample_timeout,
            )
        except subprocess.TimeoutExpired:
            logger.warning(
                "example %s ran longer than %s s",
                script.name,
                self.config.runexample_timeout,
                location=self.get_location(),
            )
            return []
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            logger.warning(
                "example %s failed (exit %d):\n%s",
                script.name,
                proc.returncode,
                proc.stderr[-3000:],
                location=self.get_location(),
            )
            return []
        logger.info("example %s ran in %.1f s", script.name, wall)
        result = []
        if "hide-source" not in self.options:
            code = script.read_text(encoding="utf-8")
            block = nodes.literal_block(code, code, language="python")
            result.append(nodes.rubric(text=f"Script: docs/{self.arguments[0]}"))
            result.append(block)
        text = proc.stdout.rstrip() or "(no output)"
        result.append(nodes.rubric(text="Output (produced when this page was built)"))
        result.append(nodes.literal_block(text, text, language="text"))
        doc_dir = Path(self.env.doc2path(self.env.docname)).parent
        for png in sorted(out_dir.glob("*.png")):
            rel = os.path.relpath(png, doc_dir).replace(os.sep, "/")
            result.append(nodes.image(uri=rel, alt=png.stem, candidates={"*": rel}))
        return result


class XbarHelp(SphinxDirective):
    optional_arguments = 3

    def run(self):
        from xbar.cli import build_parser

        old = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = "96"
        try:
            parser = build_parser()
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
                parser.parse_args([*self.arguments, "--help"])
        finally:
            if old is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = old
        text = buf.getvalue().rstrip()
        return [nodes.literal_block(text, text, language="text")]


def setup(app):
    app.add_config_value("runexample_timeout", 120, "env")
    app.add_config_value("runexample_root", None, "env")
    app.add_directive("runexample", RunExample)
    app.add_directive("xbar-help", XbarHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
