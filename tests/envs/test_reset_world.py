"""A warm reset gives the next episode the world a fresh container would give (issue 19, item 2): whatever an
episode wrote outside the repository is undone, checked against the engine's own list of changes, or the
reset goes fresh and says why."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import pytest

from envs.swe_env import SWEEnv
from envs.tools import STATE_DIR
from harness import TaskInstance
from harness.sandbox.engine import connect_engine

pytestmark = pytest.mark.docker

SHIPPED = "semverkit.egg-info/PKG-INFO"
"""An untracked, ignored file the image ships (as built extensions and egg-info are in real images)."""
SHIPPED_TEXT = "Metadata-Version: 2.1\nName: semverkit\n"
LEAKS = " && ".join(
    [
        "echo secret > /root/notes.txt && mkdir -p /root/.cache/pip && echo x > /root/.cache/pip/wheel",
        "echo 'print(1)' > /tmp/reproduce.py && mkdir -p /tmp/a/b",
        "echo 'export LEAK_BASHRC=1' >> ~/.bashrc",
        # the edit's mtime set back to the image's: ctime, which the scan reads, cannot be set back
        "echo 'export LEAK_ETC=1' >> /etc/bash.bashrc && touch -r /etc/debian_version /etc/bash.bashrc",
        "python3 -c \"import site; open(site.getsitepackages()[0] + '/leak.pth', 'w')"
        ".write('import os; os.environ[\\'LEAK_PTH\\'] = \\'1\\'\\n')\"",
        "git config --global alias.st status && git config --global user.name leak",
        f"echo tampered >> /testbed/{SHIPPED}",
        # beyond the list: shared memory, a deleted and a re-moded image file, the repository's own
        # configuration and history, /etc/hosts, and a process that dropped the env's marker variable
        "echo x > /dev/shm/left && rm /etc/issue && chmod 777 /root && echo '1.2.3.4 pypi.org' >> /etc/hosts",
        "git config core.pager leak && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m left",
        "(env -i /bin/sleep 777 > /dev/null 2>&1 &)",
    ]
)
LOOK = (
    "ls -A /root /tmp /dev/shm; cat /etc/issue; stat -c %a /root; grep -c LEAK ~/.bashrc /etc/bash.bashrc; "
    'echo "${LEAK_BASHRC:-no}${LEAK_ETC:-no}"; python3 -c "import os; print(os.environ.get(\'LEAK_PTH\'))"; '
    "git config --global --list; git config core.pager; git log --oneline | wc -l; git reflog | wc -l; "
    f"cat {SHIPPED}; grep -c pypi /etc/hosts; pgrep -c -f 'sleep 777'"
)


@pytest.fixture(scope="session")
def shipped_instance(demo_instances: dict[str, TaskInstance]) -> TaskInstance:
    """Returns semverkit-8 on an image that also ships an ignored, untracked file (egg-info)."""
    instance = demo_instances["srl-demo__semverkit-8"]
    name = f"srl-swe-test/reset-shipped-untracked:{instance.image.rsplit(':', 1)[-1]}"
    dockerfile = (
        f"FROM {instance.image}\nRUN mkdir -p /testbed/semverkit.egg-info && "
        f"printf '{SHIPPED_TEXT.replace(chr(10), chr(92) + 'n')}' > /testbed/{SHIPPED}\n"
    )
    connect_engine().images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=name, rm=True)
    return replace(instance, image=name)


def run(env: SWEEnv, action: str) -> str:
    """Returns the observation of `action`."""
    return env.step(action)[0]


def engine_changes(env: SWEEnv) -> dict[str, str]:
    """Returns path -> kind of the engine's changes of the env's container outside what git restores and
    the project's own state (the tools' state folder, where each shell keeps a file named by its pid)."""
    spared = "/testbed/semverkit.egg-info"
    kept = {}
    for kind, path in env.sandbox.changes():
        in_work_tree = path == "/testbed" or path.startswith("/testbed/")
        restored_by_git = in_work_tree and not path.startswith(("/testbed/.git/", spared))
        if restored_by_git or path == "/testbed/.git/index" or path.startswith(STATE_DIR + "/"):
            continue
        kept[path] = kind
    return kept


def same_file(left: SWEEnv, right: SWEEnv, path: str) -> bool:
    """Returns whether `path` has the same status and content in both envs' containers."""
    look = f"stat -c '%F %a %u %g %s %Y' {path}; [ -f {path} ] && sha256sum < {path}"
    return left.sandbox.run(look).output == right.sandbox.run(look).output


def test_a_warm_reset_leaves_none_of_the_episode_s_writes_outside_the_repository(
    make_env: Callable[..., SWEEnv], shipped_instance: TaskInstance
) -> None:
    fresh = make_env(shipped_instance, background="keep")
    fresh.reset()
    before = run(fresh, LOOK)
    assert f"{SHIPPED_TEXT}" in before and "LEAK" not in before
    env = make_env(shipped_instance, background="keep")
    env.reset()
    done = env.step(LEAKS)
    assert done[4]["exit_code"] == 0, done[0]
    assert "1\n1\n" in run(env, "grep -c LEAK ~/.bashrc /etc/bash.bashrc | cut -d: -f2")

    _, info = env.reset()

    assert info["fresh"] is False and info["fresh_reason"] is None
    assert run(env, LOOK) == before
    warm_changes, fresh_changes = engine_changes(env), engine_changes(fresh)
    assert set(fresh_changes) <= set(warm_changes)
    for path in set(warm_changes) - set(fresh_changes):  # an engine may list a restored file as changed
        assert warm_changes[path] == "C" and same_file(env, fresh, path), path


def test_the_warm_world_stays_fresh_over_many_episodes(make_env: Callable[..., SWEEnv]) -> None:
    env = make_env()
    env.reset()
    look = "ls -A /root /tmp; git config --global --list; stat -c %Y /tmp /root"
    first = run(env, look)
    for episode in range(3):
        run(env, f"echo {episode} > /tmp/t{episode}; echo {episode} >> ~/.profile; touch /root/r{episode}")
        _, info = env.reset()
        assert info["fresh"] is False, info["fresh_reason"]
        assert run(env, look) == first


def test_a_change_the_image_cannot_give_back_makes_the_reset_fresh_and_says_why(
    make_env: Callable[..., SWEEnv],
) -> None:
    env = make_env()
    env.reset()
    old = env.sandbox.container_id
    run(env, "chmod 600 /dev/null")  # /dev is made by the engine: no image holds it
    _, info = env.reset()
    assert info["fresh"] is True and "/dev/null" in info["fresh_reason"]
    assert env.sandbox.container_id != old and run(env, "stat -c %a /dev/null") == "666\n"


def test_too_many_paths_to_read_back_from_the_image_make_the_reset_fresh(
    make_env: Callable[..., SWEEnv],
) -> None:
    env = make_env()
    env.reset()
    run(env, "for f in /usr/share/doc/*/copyright; do echo x >> $f; done")
    _, info = env.reset()
    assert info["fresh"] is True and "read back from the image" in info["fresh_reason"]


def test_a_container_the_engine_restarted_resets_warm_with_its_new_processes(
    make_env: Callable[..., SWEEnv],
) -> None:
    env = make_env(background="keep")
    env.reset()
    look = "ls -A /tmp /dev/shm; pgrep -c -f 'sleep 555'"
    before = run(env, look)
    run(env, "echo x > /tmp/before-restart")
    env.sandbox.restart()  # what the shell does when a fork bomb holds every pid
    run(env, "echo x > /dev/shm/after-restart; (env -i /bin/sleep 555 > /dev/null 2>&1 &)")
    for _ in range(2):
        _, info = env.reset()
        assert info["fresh"] is False, info["fresh_reason"]
        assert run(env, look) == before


def test_the_tools_and_an_image_file_too_big_to_inline_are_given_back(
    make_env: Callable[..., SWEEnv],
) -> None:
    env = make_env()
    env.reset()
    big = "/usr/lib/python3.11/subprocess.py"  # over envs.world.INLINE_ARCHIVE_BYTES: unpacked by the engine
    look = f"sha256sum {big} /opt/srl_swe_tools/bin/*; stat -c %a%U /opt/srl_swe_tools"
    before = run(env, look)
    run(env, f"echo x >> {big}; echo 'echo fake' > /opt/srl_swe_tools/bin/submit")
    run(env, "rm /opt/srl_swe_tools/bin/str_replace_editor; chmod 700 /opt/srl_swe_tools")
    _, info = env.reset()
    assert info["fresh"] is False, info["fresh_reason"]
    assert run(env, look) == before
