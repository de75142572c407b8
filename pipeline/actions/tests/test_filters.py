"""GitHub's filter patterns, checked on the examples of GitHub's own filter pattern cheat sheet
(workflow syntax reference: "Patterns to match branches and tags", "Patterns to match file paths")."""

from __future__ import annotations

import pytest

from pipeline.actions.filters import matches

MATCH = [
    # branches and tags
    (["feature/*"], "feature/my-branch", True),
    (["feature/*"], "feature/your/branch", False),
    (["feature/**"], "feature/beta-a/my-branch", True),
    (["main", "releases/mona-the-octocat"], "releases/mona-the-octocat", True),
    (["*"], "main", True),
    (["*"], "releases/v1", False),
    (["**"], "releases/v1", True),
    (["*-alpha"], "v2-alpha", True),
    (["v2*"], "v2.9", True),
    (["v[12].[0-9]+.[0-9]+"], "v1.10.1", True),
    (["v[12].[0-9]+.[0-9]+"], "v3.0.0", False),
    # paths
    (["*.jsx?"], "page.js", True),
    (["*.jsx?"], "page.jsx", True),
    (["*.jsx?"], "page.jsxx", False),
    (["*.js"], "app.js", True),
    (["*.js"], "js/app.js", False),
    (["**.js"], "src/js/app.js", True),
    (["docs/*"], "docs/file.txt", True),
    (["docs/*"], "docs/mona/octocat.txt", False),
    (["docs/**"], "docs/mona/octocat.txt", True),
    (["docs/**/*.md"], "docs/README.md", True),
    (["docs/**/*.md"], "docs/a/markdown/file.md", True),
    (["**/docs/**"], "docs/hello.md", True),
    (["**/docs/**"], "space/docs/plan/space.doc", True),
    (["**/README.md"], "README.md", True),
    (["**/README.md"], "js/README.md", True),
    (["**/*src/**"], "my-src/code/js/app.js", True),
    (["**/*-post.md"], "my-post.md", True),
    (["**/migrate-*.sql"], "db/sept/migrate-v1.sql", True),
    (["*.md", "!README.md"], "hello.md", True),
    (["*.md", "!README.md"], "README.md", False),
    (["*.md", "!README.md"], "docs/hello.md", False),
    (["*.md", "!README.md", "README*"], "README.doc", True),
    (["*.md", "!README.md", "README*"], "README.md", True),
    # a leading ? or + has no preceding character: a literal one
    (["?x"], "?x", True),
]


@pytest.mark.parametrize(("patterns", "name", "expected"), MATCH)
def test_githubs_cheat_sheet(patterns: list[str], name: str, expected: bool) -> None:
    assert matches(name, patterns) is expected
