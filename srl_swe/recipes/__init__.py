"""Training recipes on TRL, one module each: ``srl`` (GRPO with dynamic sampling on step examples, rewarded by
action similarity), ``sft`` (the paper's SFT baseline on the same steps) and ``rlvr`` (GRPO whose rollouts are
whole agent episodes in SWEEnv, rewarded by the graded outcome; also SRL→RLVR). ``dynamic_sampling`` is the
GRPOTrainer extension SRL and RLVR use, ``rollouts`` the token-level episodes of RLVR. Each recipe module
holds its config class, its ``PRESETS`` and ``train``.
"""
