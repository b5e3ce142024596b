"""Long output is clipped with a visible marker inside the observation space; info carries the patch on
request; the step limit truncates and grades what is there; the grade says why a patch failed."""

from envs.scripted_expert import scripted_expert_actions
from envs.wrappers import StepLimit


def test_long_output_keeps_head_and_tail_around_a_visible_marker(make_env) -> None:
    env = make_env(max_observation_chars=2_000)
    env.reset()
    observation, _, _, _, info = env.step("seq 1 100000")
    assert info["output_clipped"] and "truncated" in observation
    assert observation.startswith("1\n2\n") and observation.endswith("99999\n100000\n")
    assert env.observation_space.contains(observation)


def test_the_current_patch_is_in_info_on_request(make_env) -> None:
    env = make_env(patch_in_info=True)
    env.reset()
    assert env.step("true")[4]["patch"] == ""
    patch = env.step("echo 'x = 1' > new_module.py")[4]["patch"]
    assert "new file mode" in patch and "+x = 1" in patch
    assert env.step("git status --porcelain")[0] == "?? new_module.py\n"  # the index was not touched


def test_step_limit_truncates_and_grades_the_patch_at_that_point(make_env, instance) -> None:
    edits = [action for action in scripted_expert_actions(instance) if action != "submit"]
    env = StepLimit(make_env(), max_steps=len(edits))
    env.reset()
    for action in edits:
        _, reward, terminated, truncated, info = env.step(action)
    assert (reward, terminated, truncated) == (1.0, False, True)
    assert info["resolved"] is True and info["step_limit_reached"]


def test_step_limit_without_grading_only_truncates(make_env) -> None:
    env = StepLimit(make_env(), max_steps=1, grade=False)
    env.reset()
    _, reward, terminated, truncated, info = env.step("true")
    assert (reward, terminated, truncated) == (0.0, False, True) and "resolved" not in info


def test_a_submission_longer_than_the_observation_is_graded_whole(make_env) -> None:
    env = make_env(max_observation_chars=500)
    env.reset()
    env.step("seq 1 2000 > numbers.txt")
    observation, _, terminated, _, info = env.step("submit")
    assert terminated and "truncated" in observation
    added_lines = "".join(f"+{number}\n" for number in range(1, 2001))
    assert info["patch"].endswith("@@ -0,0 +1,2000 @@\n" + added_lines)


def test_a_submission_that_breaks_the_syntax_is_graded_tests_did_not_run(make_env, instance) -> None:
    """info["grade"] carries the grader's verdict in the words the eval console and report use."""
    module = instance.patch.split("diff --git a/", 1)[1].split(" ", 1)[0]
    env = make_env()
    env.reset()
    env.step(f"echo 'def broken(:' >> {module}")
    _, reward, terminated, _, info = env.step("submit")
    assert terminated and reward == 0.0
    verdict = info["grade"]["diagnosis"]["verdict"]
    assert verdict.startswith("tests did not run: SyntaxError") and module in verdict
