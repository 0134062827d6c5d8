"""The README's Mermaid picture of the graph is the one the code builds."""

from __future__ import annotations

from graph.builder import graph
from tests.conftest import REPO

REGENERATE = 'python -c "from graph.builder import graph; print(graph.get_graph().draw_mermaid())"'


def test_readme_diagram_matches_the_built_graph() -> None:
    mermaid = graph.get_graph().draw_mermaid().rstrip("\n")
    readme = (REPO / "README.md").read_text(encoding="utf-8") if (REPO / "README.md").exists() else ""
    assert f"```mermaid\n{mermaid}\n```" in readme, (
        f"README.md has no ```mermaid block with the current graph; paste the output of {REGENERATE}"
    )
