"""envs.world.plan: which changes a warm reset removes, reads back from the image or fixes in place, and when
it gives up (pure logic on find's records; the real container runs are in test_reset_world.py)."""

from __future__ import annotations

from envs.world import MAX_RESTORES, Baseline, Entry, Scan, parse_scan, plan


def folder(mtime: str = "100.0000000000", mode: str = "755") -> Entry:
    return Entry("d", mode, "0", "0", "4096", mtime, "")


def file(size: str = "1", mtime: str = "100.0000000000") -> Entry:
    return Entry("f", "644", "0", "0", size, mtime, "")


BASELINE = Baseline(
    entries={
        "/": folder(),
        "/root": folder(mode="700"),
        "/root/.bashrc": file(),
        "/etc": folder(),
        "/etc/hosts": file(),
        "/etc/issue": file(),
        "/usr": folder(),
        "/usr/lib": folder(),
        "/opt": folder(),
        "/opt/tools": folder(),
        "/opt/tools/submit": file(),
        "/testbed": folder(),
        "/testbed/a.py": file(),
        "/testbed/.git": folder(),
        "/testbed/.git/HEAD": file(),
        "/testbed/.git/index": file(),
    },
    engine_files={"/etc/hosts": b"127.0.0.1 localhost\n"},
    since="100.5",
    processes=("1:10", "7:11"),
)


def ignored(path: str) -> bool:
    """The work tree but .git (restored by git), and .git/index."""
    return path == "/testbed/.git/index" or (
        path.startswith("/testbed") and not path.startswith("/testbed/.git")
    )


def project(path: str) -> bool:
    return path.startswith("/opt/tools")


def scan(changed: dict[str, Entry], children: dict[str, set[str]] | None = None) -> Scan:
    """Returns a scan of `changed`; changed folders hold their baseline children unless `children` says."""
    found = {path: BASELINE.children(path) for path, entry in changed.items() if entry.kind == "d"}
    found.update(children or {})
    return Scan(changed, found, 0, "200.0", False, ("1:10", "7:11"))


def test_added_paths_are_removed_top_most_only_and_their_folders_get_their_mtime_back() -> None:
    result = plan(
        BASELINE,
        scan(
            {
                "/root": folder("150.0", mode="700"),
                "/root/.cache": folder("150.0"),
                "/root/.cache/pip": folder("150.0"),
                "/root/notes": file(),
            },
            {"/root": {"/root/.bashrc", "/root/.cache", "/root/notes"}},
        ),
        ignored,
        project,
    )
    assert result.remove == ["/root/.cache", "/root/notes"] and result.restore == []
    assert result.fix == ["/root"] and result.status == [] and result.problem is None


def test_changed_and_deleted_image_files_are_read_back_and_their_folders_fixed() -> None:
    result = plan(
        BASELINE,
        scan(
            {"/root/.bashrc": file(size="40", mtime="150.0"), "/etc": folder("150.0")},
            {"/etc": {"/etc/hosts"}},
        ),
        ignored,
        project,
    )
    assert result.restore == ["/etc/issue", "/root/.bashrc"]
    assert result.fix == ["/etc", "/root"] and result.remove == []


def test_a_folder_whose_mode_changed_gets_it_back_and_one_whose_ctime_alone_moved_is_left() -> None:
    result = plan(
        BASELINE,
        scan({"/root": folder(mode="777"), "/usr/lib": folder(), "/usr": folder()}),
        ignored,
        project,
    )
    assert result.status == ["/root"] and result.fix == ["/root"] and result.empty is False
    assert plan(BASELINE, scan({"/usr/lib": folder(), "/usr": folder()}), ignored, project).empty


def test_engine_files_are_rewritten_from_the_baseline_not_read_from_the_image() -> None:
    result = plan(BASELINE, scan({"/etc/hosts": file(size="60", mtime="150.0")}), ignored, project)
    assert result.engine == ["/etc/hosts"] and result.restore == []


def test_the_work_tree_is_left_to_git_but_git_s_own_files_are_restored() -> None:
    changed = {
        "/testbed/a.py": file(size="9"),
        "/testbed/new.py": file(),
        "/testbed/.git/index": file(size="9"),
        "/testbed/.git/HEAD": file(size="9"),
        "/testbed/.git/ORIG_HEAD": file(),
    }
    result = plan(BASELINE, scan(changed), ignored, project)
    assert result.restore == ["/testbed/.git/HEAD"] and result.remove == ["/testbed/.git/ORIG_HEAD"]


def test_project_files_are_reinstalled_rather_than_read_from_the_image() -> None:
    result = plan(BASELINE, scan({"/opt/tools/submit": file(size="2")}), ignored, project)
    assert result.reinstall and result.restore == [] and "/opt/tools" in result.status
    deleted = plan(BASELINE, scan({"/opt": folder("150.0")}, {"/opt": set()}), ignored, project)
    assert deleted.reinstall and deleted.restore == []


def test_more_paths_to_read_back_than_the_limit_is_a_problem_that_names_the_count() -> None:
    entries = dict(BASELINE.entries)
    entries.update({f"/usr/lib/f{index}": file() for index in range(MAX_RESTORES + 1)})
    many = Baseline(entries, {}, "100.5", ())
    changed = {f"/usr/lib/f{index}": file(size="2") for index in range(MAX_RESTORES + 1)}
    result = plan(many, scan(changed), ignored, project)
    assert result.problem is not None and f"{MAX_RESTORES + 1} paths to read back" in result.problem


def test_parse_scan_reads_entries_link_targets_children_and_the_time() -> None:
    output = (
        "e d 700 0 0 4096 150.0000000000 /root\0\0"
        "e l 777 0 0 7 150.0000000000 /root/link with space\0/etc/hosts\0"
        "c /root/link with space\0c /root/.bashrc\0scan 0\0time 200.123\0"
    )
    result = parse_scan(output)
    assert result.changed["/root/link with space"].target == "/etc/hosts"
    assert result.children == {"/root": {"/root/link with space", "/root/.bashrc"}}
    assert result.status == 0 and result.time == "200.123" and not result.restarted
