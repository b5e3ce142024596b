"""The embedded default model: a tiny Qwen2 causal LM built here, offline, from text the project ships.

Nothing is downloaded. A byte-level BPE tokenizer is trained with `tokenizers` on
`srl_swe/assets/tiny_corpus.txt` and the SRL system prompt, wrapped with a ChatML chat template
(`<|im_end|>` ends a turn), and a Qwen2 model (head_dim 64: vLLM's CPU attention refuses 16) is saved beside
it in Hugging Face format.

A randomly initialised model never writes the completion format, so every SRL rollout would score −1 and
dynamic sampling would drop every group. The builder therefore gives it a short **warm-up** (about 40 s on
two cores): next-token training on synthetic SRL step prompts rendered exactly as the trainer renders them
(:func:`agents.prompts.build_prompt`: the real system prompt, 0–2 context action/observation pairs, realistic
lengths; then the chat template) whose assistant turn is a short ``<think>…</think>`` and one fenced
``bash`` action. Issue text, observations, thoughts and actions are cut from the corpus; the loss covers the
assistant turn only. Afterwards the model often writes the format after a real prompt, with varied actions,
so GRPO groups get rewards that differ; it knows nothing about fixing bugs.

The same seed gives the same files on one machine (seeded sampling, a fixed thread count while training),
but not across machines: the warm-up's float sums depend on the CPU's kernels (AVX2 or AVX-512), so two
machines would train two different models. The default model is therefore **shipped**, built once, in
`srl_swe/assets/tiny_model/` (about 2 MB) with a manifest (`srl_swe_tiny_model.json`): the spec, the key of
everything that shaped it, the sha256 of each file and the machine that built it. The default spec loads
those files as they are (checked against the manifest, never retrained); another spec is built here and
cached under `$SRL_SWE_CACHE/models` (default `~/.cache/srl_swe/models`) by its key (spec, corpus, system
prompt, chat template, builder version).

CLI: `python -m srl_swe.tiny_model [--seed N] [--cache-dir DIR]` prints the model directory (progress goes
to stderr); `python -m srl_swe.tiny_model --regenerate` rebuilds the shipped model on this machine and
rewrites `srl_swe/assets/tiny_model/` (do it when the corpus, the system prompt or the builder changes; the
tests fail until then).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

from agents.prompts import SYSTEM_PROMPT, action_block, build_prompt
from srl_swe.models import ModelNotFoundError

CORPUS = resources.files("srl_swe") / "assets" / "tiny_corpus.txt"
SHIPPED = Path(str(resources.files("srl_swe") / "assets" / "tiny_model"))
"""The default tiny model, built once and shipped so that every machine loads the same weights."""
MANIFEST = "srl_swe_tiny_model.json"
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
BUILDER_VERSION = 2  # bump when the code below changes what it writes

_STEP = re.compile(r"<think>(.+?)</think>\s*```bash\n(.+?)\n```", re.DOTALL)
_NOT_PROSE = re.compile(r"^#|<\|im_|</?think>")  # comments, chat markup and thought tags are no issue text
_COMMAND = re.compile(r"^(?:cd|ls|find|grep|cat|python3|sed|echo|head|tail|wc|git|rm|str_replace_editor) .+$")


@dataclass(frozen=True)
class TinyModelSpec:
    """Sizes of the tiny model and its warm-up; the defaults load in vLLM's CPU backend and build in about a
    minute on two cores.

    ``warmup_steps``: synthetic step examples trained on, one per optimizer step (0: leave the model random).
    ``warmup_learning_rate``: peak AdamW learning rate (linear ramp over the first tenth, then linear decay).
    ``warmup_max_prompt_tokens``: longest synthetic prompt; real demo prompts have about 0.7–2.6k tokens.
    ``warmup_max_completion_tokens``: longest synthetic assistant turn (the CPU demo samples at most 48).
    """

    vocab_size: int = 2048
    hidden_size: int = 128
    intermediate_size: int = 256
    num_hidden_layers: int = 2
    num_attention_heads: int = 2
    num_key_value_heads: int = 1
    max_position_embeddings: int = 4096
    seed: int = 0
    warmup_steps: int = 800
    warmup_learning_rate: float = 6e-3
    warmup_max_prompt_tokens: int = 2000
    warmup_max_completion_tokens: int = 40

    def cache_key(self, corpus: str) -> str:
        """Return a short hash of the spec, the corpus, the prompt text and the builder version."""
        blob = json.dumps(
            {
                "spec": asdict(self),
                "corpus": corpus,
                "system_prompt": SYSTEM_PROMPT,
                "chat_template": CHAT_TEMPLATE,
                "v": BUILDER_VERSION,
            },
            sort_keys=True,
        )
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def default_cache_dir() -> Path:
    """Return the folder where built models are cached."""
    root = os.environ.get("SRL_SWE_CACHE") or Path.home() / ".cache" / "srl_swe"
    return Path(root) / "models"


def _train_tokenizer(text: str, vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(text.splitlines(keepends=True), trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
        model_max_length=4096,
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


@dataclass(frozen=True)
class _WarmupText:
    """What synthetic step examples are cut from: the corpus's steps, commands and lines."""

    steps: tuple[tuple[str, str], ...]
    actions: tuple[str, ...]
    lines: tuple[str, ...]

    @classmethod
    def from_corpus(cls, corpus: str) -> _WarmupText:
        """Return the (thought, action) steps, the one-line commands and the lines of ``corpus``."""
        steps = tuple((" ".join(t.split()), a.strip()) for t, a in _STEP.findall(corpus))
        lines = tuple(line for line in corpus.splitlines() if not _NOT_PROSE.search(line))
        commands = tuple(line for line in lines if _COMMAND.match(line))
        return cls(steps=steps, actions=tuple(a for _, a in steps) + commands, lines=lines)

    def passage(self, rng: random.Random, max_lines: int) -> str:
        """Return up to ``max_lines`` consecutive corpus lines from a random start."""
        start = rng.randrange(len(self.lines))
        return "\n".join(self.lines[start : start + rng.randint(1, max_lines)]).strip()

    def completion(self, rng: random.Random) -> str:
        """Return a short assistant turn: a corpus thought with its action, or half the time any action."""
        thought, action = rng.choice(self.steps)
        if rng.random() < 0.5:
            action = rng.choice(self.actions)
        return f"<think>\n{thought}\n</think>\n{action_block(action)}"

    def prompt(self, rng: random.Random) -> list[dict[str, str]]:
        """Return a synthetic SRL step prompt: an issue of corpus text and 0–2 context steps."""
        issue = "\n\n".join(self.passage(rng, 30) for _ in range(rng.randint(1, 4)))
        context = [
            (rng.choice(self.actions), self.passage(rng, 40) if rng.random() < 0.9 else "")
            for _ in range(rng.randint(0, 2))
        ]
        return build_prompt(issue, context, omitted_steps=rng.choice((0, 0, 1, 3)) if context else 0)


def _warmup_examples(tokenizer, spec: TinyModelSpec, rng: random.Random):
    """Yield ``(token ids, completion length)`` of synthetic step examples within the spec's limits."""
    text = _WarmupText.from_corpus(CORPUS.read_text(encoding="utf-8"))
    while True:
        prompt_ids = tokenizer.apply_chat_template(text.prompt(rng), add_generation_prompt=True)["input_ids"]
        completion_ids = [*tokenizer.encode(text.completion(rng)), tokenizer.eos_token_id]
        if len(prompt_ids) <= spec.warmup_max_prompt_tokens and (
            len(completion_ids) <= spec.warmup_max_completion_tokens
        ):
            yield prompt_ids + completion_ids, len(completion_ids)


def _warm_up(model, tokenizer, spec: TinyModelSpec) -> None:
    """Train ``model`` on synthetic step examples (loss on the assistant turn only), showing progress."""
    import torch
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    rng = random.Random(spec.seed)
    examples = _warmup_examples(tokenizer, spec, rng)
    optimizer = torch.optim.AdamW(model.parameters(), lr=spec.warmup_learning_rate, weight_decay=0.0)
    ramp = max(1, spec.warmup_steps // 10)
    decay = max(1, spec.warmup_steps - ramp)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / ramp, (spec.warmup_steps - step) / decay)
    )
    columns = (
        TextColumn("warming up the tiny model"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("loss {task.fields[loss]:.2f}"),
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # a fixed count keeps the sums, and so the weights, the same run to run
    model.train()
    try:
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("warm-up", total=spec.warmup_steps, loss=float("nan"))
            for _ in range(spec.warmup_steps):
                ids, completion = next(examples)
                tokens = torch.tensor([ids])
                hidden = model.model(input_ids=tokens[:, :-1]).last_hidden_state[0, -completion:]
                loss = torch.nn.functional.cross_entropy(model.lm_head(hidden), tokens[0, -completion:])
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                bar.update(task, advance=1, loss=loss.item())
    finally:
        torch.set_num_threads(threads)
    model.eval()


def _write_model(spec: TinyModelSpec, corpus: str, out: Path) -> None:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = _train_tokenizer(corpus + "\n" + SYSTEM_PROMPT, spec.vocab_size)
    vocab = -(-len(tokenizer) // 64) * 64  # padded like real checkpoints
    config = Qwen2Config(
        vocab_size=vocab,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(spec.seed)
    model = Qwen2ForCausalLM(config)
    if spec.warmup_steps:
        _warm_up(model, tokenizer, spec)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "srl_swe_tiny_model.json").write_text(json.dumps(asdict(spec), indent=2) + "\n")


class ShippedModelError(ModelNotFoundError):
    """The shipped tiny model's files are not what its manifest records, or were built for other settings."""


def file_digests(folder: Path) -> dict[str, str]:
    """Return the sha256 of every file of a model folder but its manifest, by file name."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file() and path.name != MANIFEST
    }


def read_manifest(folder: Path = SHIPPED) -> dict:
    """Return the manifest of a shipped model folder (spec, key, files' sha256, the machine that built it)."""
    return json.loads((folder / MANIFEST).read_text())


def check_shipped(spec: TinyModelSpec, corpus: str, folder: Path = SHIPPED) -> Path:
    """Return ``folder`` when it holds the model ``spec`` describes, its files as its manifest records them;
    raise ShippedModelError naming what differs (and how to regenerate) otherwise."""
    regenerate = "regenerate it: python -m srl_swe.tiny_model --regenerate"
    if not (folder / MANIFEST).is_file():
        raise ShippedModelError(f"no shipped tiny model in {folder} (no {MANIFEST}); {regenerate}")
    manifest = read_manifest(folder)
    if manifest["key"] != spec.cache_key(corpus) or manifest["spec"] != asdict(spec):
        raise ShippedModelError(
            f"the shipped tiny model in {folder} was built for other settings (key {manifest['key']}, this "
            f"builder's {spec.cache_key(corpus)}: the corpus, system prompt, spec or builder changed); "
            f"{regenerate}"
        )
    changed = sorted(set(file_digests(folder).items()) ^ set(manifest["files"].items()))
    if changed:
        names = ", ".join(sorted({name for name, _ in changed}))
        raise ShippedModelError(
            f"the shipped tiny model's files differ from its manifest ({names}); {regenerate}"
        )
    return folder


def regenerate_shipped(folder: Path = SHIPPED) -> Path:
    """Build the default tiny model on this machine into ``folder`` (replacing what is there) with its
    manifest; return the folder."""
    spec = TinyModelSpec()
    corpus = CORPUS.read_text(encoding="utf-8")
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        _write_model(spec, corpus, staging)
        manifest = {
            "spec": asdict(spec),
            "key": spec.cache_key(corpus),
            "builder_version": BUILDER_VERSION,
            "files": file_digests(staging),
            "built_on": built_on(),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        for path in staging.iterdir():
            path.chmod(0o644)
        shutil.rmtree(folder, ignore_errors=True)
        staging.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def built_on() -> dict[str, str]:
    """Return what describes this machine's float kernels: CPU model, widest vector extension, torch."""
    import torch

    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in flags.splitlines() if "model name" in line), "")
    vector = "avx512" if " avx512f" in flags else "avx2" if " avx2" in flags else platform.machine()
    return {"cpu": model or platform.processor(), "vector": vector, "torch": torch.__version__}


def build_tiny_model(spec: TinyModelSpec | None = None, cache_dir: Path | None = None) -> Path:
    """Return the tiny model's Hugging Face-format directory: the shipped one for the default spec (checked
    against its manifest, never retrained), else one built here unless it is cached."""
    spec = spec or TinyModelSpec()
    corpus = CORPUS.read_text(encoding="utf-8")
    if spec == TinyModelSpec():
        return check_shipped(spec, corpus)
    cache_dir = cache_dir or default_cache_dir()
    target = cache_dir / f"tiny-qwen2-{spec.cache_key(corpus)}"
    if (target / "config.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    staging.chmod(0o755)
    try:
        _write_model(spec, corpus, staging)
        try:
            staging.rename(target)  # atomic: a reader never sees half a model
        except OSError:
            if not (target / "config.json").is_file():  # not a concurrent builder winning the race
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def main(argv: list[str] | None = None) -> int:
    """Build (or find) the tiny model and print its directory; return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m srl_swe.tiny_model", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=TinyModelSpec.seed)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument(
        "--regenerate", action="store_true", help=f"rebuild the shipped default model here, into {SHIPPED}"
    )
    args = parser.parse_args(argv)
    try:
        path = (
            regenerate_shipped()
            if args.regenerate
            else build_tiny_model(TinyModelSpec(seed=args.seed), args.cache_dir)
        )
    except ShippedModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
