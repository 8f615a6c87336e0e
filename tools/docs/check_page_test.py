"""check_page: current, stale (with the diff and the update command) and missing pages."""

from __future__ import annotations

from pathlib import Path

from tools.docs import check_page

UPDATE = "./bazelw run //docs/rules:update"


def _pages(tmp_path: Path, rendered: str, checked_in: str | None) -> tuple[Path, Path]:
    built = tmp_path / "rendered.md"
    built.write_text(rendered, encoding="utf-8")
    copy = tmp_path / "copy.md"
    if checked_in is not None:
        copy.write_text(checked_in, encoding="utf-8")
    return built, copy


def test_current_page_passes(tmp_path: Path) -> None:
    built, copy = _pages(tmp_path, "# a\n", "# a\n")
    assert check_page.check(built, copy, "docs/rules/a.md", UPDATE) == (True, "")


def test_stale_page_shows_the_diff_and_the_command(tmp_path: Path) -> None:
    built, copy = _pages(tmp_path, "# a\nnew line\n", "# a\nold line\n")
    current, report = check_page.check(built, copy, "docs/rules/a.md", UPDATE)
    assert not current
    assert "-old line\n+new line\n" in report
    assert report.endswith(f"docs/rules/a.md is stale: run {UPDATE} and commit the diff\n")


def test_missing_page_says_how_to_create_it(tmp_path: Path) -> None:
    built, copy = _pages(tmp_path, "# a\n", None)
    current, report = check_page.check(built, copy, "docs/rules/a.md", UPDATE)
    assert not current
    assert report == f"docs/rules/a.md does not exist: run {UPDATE} and commit it\n"


def test_main_exit_status(tmp_path: Path) -> None:
    built, copy = _pages(tmp_path, "# a\n", "# b\n")
    args = ["--rendered", str(built), "--checked-in", str(copy), "--update-target", "//docs/rules:update"]
    assert check_page.main(args) == 1
    copy.write_text("# a\n", encoding="utf-8")
    assert check_page.main(args) == 0
