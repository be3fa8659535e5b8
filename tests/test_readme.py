"""The README's library example runs as written."""

import re
from pathlib import Path


def test_readme_example_runs(capsys):
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["I"].shape == (10_000, 256)
    out = capsys.readouterr().out
    assert "cells" in out and "wires" in out


def test_readme_links_and_images_stay_inside_the_repository():
    """Every link and image of the README points at a file of the repository (the figures of
    the seed studies are committed beside them); none points outside it."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert any(t.endswith(".png") for t in targets)
    for t in targets:
        assert not re.match(r"[a-z]+:", t), f"README links outside the repository: {t}"
        path = t.split("#")[0]
        if path:
            assert (root / path).exists(), f"README links to a missing file: {t}"
