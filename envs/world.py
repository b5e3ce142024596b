"""The container's world outside what the environment restores by itself, kept equal to a fresh container's.

At a fresh start, once the container is prepared, `baseline_command` records the baseline: every entry of
the container's file systems (`/`, `/dev`, `/dev/shm`: path, kind, mode, owner, size, mtime, link target),
the files the engine writes at start (/etc/hosts, /etc/hostname, /etc/resolv.conf) and the container's
clock. At a warm reset, `scan_command` kills every process the episode left (all but the container's init
and main process), empties SysV IPC and POSIX message queues, and lists every entry whose status changed
since the last baseline time (ctime, which no process without CAP_SYS_TIME can set back) with the present
children of each changed folder. `plan` turns that into the undoing: entries the baseline lacks are removed,
changed or missing ones are read back from the image (`DockerSandbox.image_archive`, owners and modes set
to the baseline's, in one archive that `tar` unpacks inside the finishing command when it is small), engine
files rewritten, folders given back their mode, owner and mtime; `finish_command` applies it, prints what it
left for `check` to compare with the baseline, and the new baseline time.

Paths the caller restores itself (the repository's work tree, restored by git) are left out through the
`ignored` predicate; the project's own files (the tools) through `project`: they are reinstalled rather
than read from the image. Programs the check itself runs (bash, find, the C library) are trusted: an
episode that replaced them on purpose could hide its changes from the scan.
"""

from __future__ import annotations

import base64
import io
import posixpath
import shlex
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ENGINE_FILES = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf")
"""Files the engine mounts into the container at start: restored from the baseline's copy, not the image."""
SCAN_ROOTS = ("/", "/dev", "/dev/shm")
"""File systems of a container that an episode can write to (each scanned without crossing into another)."""
MAX_RESTORES = 64
"""Most paths read back from the image in one reset (each is an engine call); more go fresh."""
INLINE_ARCHIVE_BYTES = 64 << 10
"""Largest restore archive sent inside the finishing command (one engine call fewer); a larger one is
unpacked by the engine first (a command line holds at most 128 KiB)."""
MAX_CHANGES = 20_000
"""Most changed entries a warm reset undoes; more go fresh (a fresh container is then cheaper)."""

_ENTRY_FORMAT = r"e %y %m %U %G %s %T@ %p\0%l\0"
"""find -printf format of one entry: a record `e KIND MODE UID GID SIZE MTIME PATH`, then the link target."""


@dataclass(frozen=True)
class Entry:
    """One file system entry as `find -printf` shows it."""

    kind: str
    mode: str
    uid: str
    gid: str
    size: str
    mtime: str
    target: str

    def differs(self, other: Entry, times: bool = True) -> str | None:
        """Returns what differs from `other` ("mode 700 vs 755"), or None; folder sizes are not compared,
        times only when `times`."""
        pairs = [("kind", self.kind, other.kind), ("mode", self.mode, other.mode)]
        pairs += [("owner", f"{self.uid}:{self.gid}", f"{other.uid}:{other.gid}")]
        pairs += [("link target", self.target, other.target)]
        if self.kind != "d":
            pairs.append(("size", self.size, other.size))
        if times:
            pairs.append(("mtime", self.mtime, other.mtime))
        for name, mine, theirs in pairs:
            if mine != theirs:
                return f"{name} {mine} vs {theirs}"
        return None


@dataclass
class Baseline:
    """The container as the episode found it: its entries, the engine's files and the time it was taken."""

    entries: dict[str, Entry]
    engine_files: dict[str, bytes]
    since: str
    processes: tuple[str, ...]
    _children: dict[str, set[str]] | None = field(default=None, repr=False)

    def children(self, folder: str) -> set[str]:
        """Returns the paths of the entries directly in `folder` at the baseline."""
        if self._children is None:
            self._children = {}
            for path in self.entries:
                if path != "/":
                    self._children.setdefault(posixpath.dirname(path), set()).add(path)
        return self._children.get(folder, set())

    def under(self, folder: str) -> list[str]:
        """Returns `folder` and the paths of every entry below it at the baseline."""
        prefix = folder.rstrip("/") + "/"
        return [path for path in self.entries if path == folder or path.startswith(prefix)]


@dataclass
class Scan:
    """What changed since the baseline time: entries (as they are now) and the children of changed folders."""

    changed: dict[str, Entry]
    children: dict[str, set[str]]
    status: int | None
    time: str | None
    restarted: bool
    processes: tuple[str, ...]


@dataclass
class Plan:
    """How to bring the container back to its baseline."""

    remove: list[str] = field(default_factory=list)
    """Entries the baseline lacks (top-most only)."""
    restore: list[str] = field(default_factory=list)
    """Entries read back from the image, whole folders included (top-most only)."""
    fix: list[str] = field(default_factory=list)
    """Folders given back their baseline mtime (deepest first)."""
    status: list[str] = field(default_factory=list)
    """Folders and engine files given back their baseline owner and mode."""
    engine: list[str] = field(default_factory=list)
    """Engine files rewritten from the baseline's copy."""
    reinstall: bool = False
    problem: str | None = None

    @property
    def empty(self) -> bool:
        """Returns whether nothing needs undoing."""
        return not (self.remove or self.restore or self.fix or self.status or self.engine or self.reinstall)


def baseline_command(state_dir: str) -> str:
    """Returns the bash lines (run as root, no profile) that create `state_dir` and print the baseline
    records that `parse_baseline` reads."""
    engine = " ".join(ENGINE_FILES)
    processes = (
        'for d in /proc/[0-9]*; do p=${d#/proc/}; read -r st < "$d/stat" || continue; st=(${st##*) }); '
        '[[ $p == "$$" || ${st[1]} == "$$" ]] || printf "process %s:%s\\0" "$p" "${st[19]}"; done'
    )
    return "\n".join(
        [
            processes,
            f"mkdir -p {shlex.quote(state_dir)}",
            f'for f in {engine}; do [ -f "$f" ] && printf "file %s %s\\0" "$f" "$(base64 -w0 < "$f")"; done',
            f"find {' '.join(SCAN_ROOTS)} -xdev -printf '{_ENTRY_FORMAT}' 2>/dev/null",
            'printf "scan %s\\0" "$?"',
            time_command(),
        ]
    )


def parse_baseline(output: str) -> Baseline:
    """Returns the baseline that `baseline_command` printed; raises ValueError when it is incomplete."""
    records = _records(output)
    entries = _entries(records)
    engine_files = {}
    for record in records:
        if record.startswith("file "):
            _, path, data = record.split(" ", 2)
            engine_files[path] = _base64(data)
    status, time = _value(records, "scan"), _value(records, "time")
    if status != "0" or time is None or "/" not in entries:
        raise ValueError(f"the container's files could not be listed (find status {status})")
    processes = tuple(record[8:] for record in records if record.startswith("process "))
    return Baseline(entries, engine_files, time, processes)


def scan_command(since: str, keep: tuple[str, ...]) -> str:
    """Returns the bash lines (run as root, no profile) that kill every process but the baseline's `keep`
    (PID:STARTTIME), empty SysV IPC and message queues, and print every entry changed since `since` with
    the children of changed folders, then the processes kept (records `parse_scan` reads).

    A container whose pid 1 is not in `keep` was restarted by the engine (a `restarted` record): every
    process it had then ended, and the processes kept are pid 1 and, when the baseline had an init with
    the main process under it, pid 1's first child."""
    with_main = "1" if len(keep) > 1 else ""
    kill = (
        f"keep={shlex.quote(' ' + ' '.join(keep) + ' ')}; "
        'read -r s1 < /proc/1/stat; s1=(${s1##*) }); if [[ $keep != *" 1:${s1[19]} "* ]]; then '
        "printf 'restarted\\0'; keep=\" 1:${s1[19]} \"; main=; "
        f"[[ -n '{with_main}' ]] && for d in /proc/[0-9]*; do p=${{d#/proc/}}; "
        'read -r st < "$d/stat" || continue; st=(${st##*) }); '
        "[[ ${st[1]} == 1 ]] && { [[ -z $main ]] || (( p < main )); } && { main=$p; started=${st[19]}; }; "
        'done; [[ -n $main ]] && keep+="$main:$started "; fi; '
        "for _ in 1 2 3 4 5; do left=; for d in /proc/[0-9]*; do p=${d#/proc/}; "
        '[[ $p == "$$" ]] && continue; read -r st < "$d/stat" || continue; st=(${st##*) }); '
        '[[ ${st[0]} == [ZX] || $keep == *" $p:${st[19]} "* ]] && continue; '
        'kill -STOP "$p" && left+=" $p"; done 2>/dev/null; [[ -z $left ]] && break; '
        "kill -KILL $left 2>/dev/null; done"
    )
    listing = (
        f"mapfile -d '' found < <(find {' '.join(SCAN_ROOTS)} -xdev -newerct {shlex.quote('@' + since)} "
        f"-printf '{_ENTRY_FORMAT}' 2>/dev/null; printf 'scan %s\\0' \"$?\")\n"
        'for ((i = 0; i < ${#found[@]}; i += 2)); do r=${found[i]}; printf "%s\\0" "$r" "${found[i + 1]}"; '
        '[[ $r == "e d "* ]] || continue; d=${r#e d * * * * * }; '
        'for c in "${d%/}"/*; do printf "c %s\\0" "$c"; done; done'
    )
    ipc = (  # builtins unless there is something to remove
        "shopt -s dotglob nullglob; for f in /proc/sysvipc/shm /proc/sysvipc/sem /proc/sysvipc/msg; do "
        'mapfile -t ipc < "$f" 2>/dev/null; (( ${#ipc[@]} > 1 )) && { ipcrm --all >/dev/null 2>&1; break; }; '
        'done; queues=(/dev/mqueue/*); (( ${#queues[@]} )) && rm -f -- "${queues[@]}"'
    )
    kept = 'for k in $keep; do printf "process %s\\0" "$k"; done'
    return "\n".join([kill, ipc, listing, kept])


def time_command() -> str:
    """Returns the bash line printing the container's clock as the next baseline time (a `time` record)."""
    return 't=${EPOCHREALTIME/,/.}; printf "time %s\\0" "${t:-$(date +%s.%N)}"'


def parse_scan(output: str) -> Scan:
    """Returns what `scan_command` (and a trailing `time_command`) printed."""
    records = _records(output)
    changed = _entries(records)
    children: dict[str, set[str]] = {path: set() for path, entry in changed.items() if entry.kind == "d"}
    for record in records:
        if record.startswith("c "):
            child = record[2:]
            children.setdefault(posixpath.dirname(child), set()).add(child)
    status = _value(records, "scan")
    processes = tuple(record[8:] for record in records if record.startswith("process "))
    return Scan(
        changed,
        children,
        None if status is None else int(status),
        _value(records, "time"),
        "restarted" in records,
        processes,
    )


def plan(
    baseline: Baseline, scan: Scan, ignored: Callable[[str], bool], project: Callable[[str], bool]
) -> Plan:
    """Returns how to undo `scan`'s changes: remove what the baseline lacks, read back from the image what
    changed or went missing (project files: reinstall), rewrite engine files, fix folders' status; with
    `problem` set when that cannot be done cheaply."""
    result = Plan()
    if len(scan.changed) > MAX_CHANGES:
        result.problem = f"{len(scan.changed)} entries changed outside the repository (most {MAX_CHANGES})"
        return result
    remove, restore, fix = set(), set(), set()
    for path, entry in scan.changed.items():
        base = baseline.entries.get(path)
        same_but_times = base is not None and not entry.differs(base, times=False)
        if ignored(path) or (same_but_times and (project(path) or (scan.restarted and _remade(path)))):
            continue  # a project folder's contents say whether to reinstall; a restart remade mounts
        if base is None:
            remove.add(path)
        elif path in ENGINE_FILES:
            result.engine.append(path)
            result.status.append(path)
        elif entry.kind == "d" and base.kind == "d":
            if entry.differs(base, times=False):
                result.status.append(path)
            if entry.differs(base) is not None:
                fix.add(path)  # else only its ctime moved (an overlay copy-up of something below)
        elif project(path):
            result.reinstall = True
        else:
            restore.add(path)
    for folder, present in scan.children.items():
        for child in baseline.children(folder) - present:
            if ignored(child):
                continue
            if project(child):
                result.reinstall = True
            else:
                restore.add(child)
                if baseline.entries[child].kind == "d" and any(map(project, baseline.under(child))):
                    result.reinstall = True
    result.remove = _topmost(remove)
    result.restore = _topmost(restore)
    if len(result.restore) > MAX_RESTORES:
        result.problem = f"{len(result.restore)} paths to read back from the image (most {MAX_RESTORES})"
    parents = {posixpath.dirname(path) for path in result.restore + result.remove}
    if result.reinstall:
        owned = [path for path in baseline.entries if project(path)]
        folders = [path for path in owned if baseline.entries[path].kind == "d"]
        fix.update(folders)
        result.status.extend(folders)
        parents.update(posixpath.dirname(path) for path in owned)
    fix.update(path for path in parents if path in baseline.entries and not ignored(path))
    result.fix = sorted(fix, key=lambda path: (-path.count("/"), path))
    return result


def restore_archive(
    images: list[tuple[str, bytes]], baseline: Baseline, files: dict[str, tuple[bytes, int]] | None = None
) -> bytes:
    """Returns one archive, to unpack at `/`, of the image's archives of the given paths (members named from
    each path's base name, as the engine gives them), each member's owner and mode set to the baseline's
    (the workdir may have been handed to another user), plus `files` (path -> content, mode; root's)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as target:
        for path, data in images:
            folder = posixpath.dirname(path)
            with tarfile.open(fileobj=io.BytesIO(data)) as source:
                for member in source:
                    absolute = posixpath.normpath(posixpath.join(folder, member.name))
                    base = baseline.entries.get(absolute)
                    if base is not None:
                        member.uid, member.gid, member.mode = int(base.uid), int(base.gid), int(base.mode, 8)
                        member.uname = member.gname = ""
                    content = source.extractfile(member) if member.isfile() else None
                    member.name = absolute.lstrip("/")
                    if member.islnk():  # a hard link names another member of the same archive
                        member.linkname = posixpath.join(folder, member.linkname).lstrip("/")
                    target.addfile(member, content)
        for path, (content, mode) in (files or {}).items():
            member = tarfile.TarInfo(path.lstrip("/"))
            member.size, member.mode, member.mtime = len(content), mode, int(time.time())
            target.addfile(member, io.BytesIO(content))
    return out.getvalue()


def finish_command(result: Plan, baseline: Baseline, state_dir: str, archive: bytes | None = None) -> str:
    """Returns the bash lines (root, no profile) that put `archive` (`restore_archive`'s, when given; else it
    was unpacked before) in place of the paths to restore, remove what the baseline lacks, rewrite engine
    files, give folders back their status, then print what is there for `check` and the new baseline time.
    """
    lines = []
    if archive is not None:
        lines.append("rm -rf -- " + " ".join(map(shlex.quote, result.restore)) + " 2>/dev/null")
        lines.append(
            f"printf %s {_base64_text(archive)} | base64 -d | tar -x -p --same-owner --numeric-owner "
            "--xattrs --xattrs-include='*' -C / 2>/dev/null"
        )
    if result.remove:
        lines.append("rm -rf -- " + " ".join(map(shlex.quote, result.remove)) + " 2>/dev/null")
    for path in result.engine:
        data = _base64_text(baseline.engine_files.get(path, b""))
        lines.append(f"printf %s {data} | base64 -d > {shlex.quote(path)} 2>/dev/null")
    lines.append(f"mkdir -p {shlex.quote(state_dir)}")
    for path in result.status:
        base, quoted = baseline.entries[path], shlex.quote(path)
        lines.append(
            f"chown -h {base.uid}:{base.gid} {quoted} 2>/dev/null; chmod {base.mode} {quoted} 2>/dev/null"
        )
    by_time: dict[str, list[str]] = {}
    for path in [*result.engine, *result.fix]:
        by_time.setdefault(baseline.entries[path].mtime, []).append(shlex.quote(path))
    for mtime, quoted in by_time.items():
        lines.append(f"touch -h -m -d @{mtime} {' '.join(quoted)} 2>/dev/null")
    shown = [*result.engine, *result.fix]
    if shown:
        lines.append(
            f"find {' '.join(map(shlex.quote, shown))} -maxdepth 0 -printf '{_ENTRY_FORMAT}' 2>/dev/null"
        )
    if result.restore:
        lines.append(
            f"find {' '.join(map(shlex.quote, result.restore))} -printf '{_ENTRY_FORMAT}' 2>/dev/null"
        )
    for path in result.remove:
        quoted = shlex.quote(path)
        lines.append(f'{{ [ -e {quoted} ] || [ -L {quoted} ]; }} && printf "left %s\\0" {quoted}')
    lines.append(time_command())
    return "\n".join(lines)


def check(
    result: Plan, baseline: Baseline, output: str, project: Callable[[str], bool]
) -> tuple[str | None, str]:
    """Returns (what still differs from the baseline after `finish_command`, or None; the new baseline
    time, "" when none was printed)."""
    records = _records(output)
    found = _entries(records)
    expected = set(result.engine) | set(result.fix)
    for path in result.restore:
        expected.update(baseline.under(path))
    for path in sorted(expected):
        if project(path) and baseline.entries[path].kind != "d":
            continue
        if path not in found:
            return f"{path} is missing after the restore", ""
        difference = found[path].differs(baseline.entries[path])
        if difference is not None:
            return f"{path} differs from a fresh container's after the restore ({difference})", ""
    extra = sorted(set(found) - expected)
    if extra:
        return f"{extra[0]} is there after the restore but not in a fresh container", ""
    for record in records:
        if record.startswith("left "):
            return f"{record[5:]} could not be removed", ""
    return None, _value(records, "time") or ""


def _records(output: str) -> list[str]:
    """Returns the NUL-separated records of `output`."""
    return output.split("\0")


def _entries(records: list[str]) -> dict[str, Entry]:
    """Returns path -> Entry for each `e` record (each followed by its link target record)."""
    entries = {}
    for index, record in enumerate(records[:-1]):
        if record.startswith("e "):
            parts = record.split(" ", 7)
            if len(parts) == 8:
                _, kind, mode, uid, gid, size, mtime, path = parts
                entries[path] = Entry(kind, mode, uid, gid, size, mtime, records[index + 1])
    return entries


def _value(records: list[str], tag: str) -> str | None:
    """Returns the value of the last `tag VALUE` record, or None."""
    lines = [record.rsplit("\n", 1)[-1] for record in records]  # an error message may precede a record
    values = [line[len(tag) + 1 :] for line in lines if line.startswith(tag + " ")]
    return values[-1] if values else None


def _remade(path: str) -> bool:
    """Returns whether the engine makes `path` anew each time it starts the container: /dev and what is in
    it, the /proc and /sys mount points (its files are rewritten from the baseline's copy all the same)."""
    return path in ("/proc", "/sys", "/dev") or path.startswith("/dev/")


def _topmost(paths: set[str]) -> list[str]:
    """Returns the paths of `paths` that lie under no other one, sorted."""
    kept: list[str] = []
    for path in sorted(paths):
        if not any(path.startswith(top.rstrip("/") + "/") for top in kept):
            kept.append(path)
    return kept


def _base64(text: str) -> bytes:
    return base64.b64decode(text)


def _base64_text(data: bytes) -> str:
    return base64.b64encode(data).decode() or "''"
