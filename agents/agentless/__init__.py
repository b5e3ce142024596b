"""Agentless Mini, the pipeline SWE-RL (Wei et al. 2025) evaluates with, one module per stage.

- :mod:`~agents.agentless.localize` — file-level localization from the issue and the repository's tree;
- :mod:`~agents.agentless.repair` — the files each repair sample sees (the prompt and the reading of the
  reply are SWE-RL's repair protocol, :mod:`agents.swe_rl`);
- :mod:`~agents.agentless.regression` — the repository's existing tests, without the task's test patch;
- :mod:`~agents.agentless.reproduction` — generated tests that print whether the issue is reproduced;
- :mod:`~agents.agentless.select` — SWE-RL's reranking: regression and reproduction filters, then a
  majority vote over normalized patches;
- :mod:`~agents.agentless.sandbox` — the stages' commands in a container of the instance's image.

The stages are pure logic but for the sandbox; ``srl_swe.eval_agentless`` runs them per instance, caches
each stage's result and grades the selected patch.
"""
