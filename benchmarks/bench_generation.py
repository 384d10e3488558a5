"""HF generation paths for a LoRA policy, no vLLM: which one gives the most completions/s.

    python benchmarks/bench_generation.py --model DIR --batch 256 --new-tokens 256

Paths (same weights, same prompts, lengths forced to ``--new-tokens``):
``peft``: ``generate`` on the PEFT model, adapter unmerged (what TRL's GRPOTrainer does);
``merged``: ``generate`` on a merged copy in the generation dtype (training/fastgen.py);
``merged+cb``: transformers' continuous batching (``generate_batch``) on the merged copy.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    from strategy_gym.training.fastgen import MergedCopy

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint dir (or config dir with --random)")
    parser.add_argument("--random", action="store_true", help="random weights from the config")
    parser.add_argument("--batch", type=int, nargs="+", default=[256])
    parser.add_argument("--prompt-tokens", type=int, default=160)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--paths", nargs="+", default=["peft", "merged", "merged+cb"])
    args = parser.parse_args()
    device = "cuda"
    if args.random:
        with torch.device(device):
            base = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(args.model),
                                                    dtype=torch.bfloat16)
    else:
        base = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16).to(device)
    model = get_peft_model(base, LoraConfig(r=16, lora_alpha=32, target_modules=[
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    model.eval()
    copy = MergedCopy(model)
    warm = torch.randint(100, 20000, (8, 16), device=device)
    with torch.no_grad():  # CUDA context, kernels and caches before anything is timed
        model.generate(input_ids=warm, max_new_tokens=8, do_sample=True)
        copy.sync().generate(input_ids=warm, max_new_tokens=8, do_sample=True)
    rows = []
    for batch in args.batch:
        ids = torch.randint(100, 20000, (batch, args.prompt_tokens), device=device)
        kwargs = dict(max_new_tokens=args.new_tokens, min_new_tokens=args.new_tokens,
                      do_sample=True, temperature=1.0, top_p=1.0, top_k=0)
        for path in args.paths:
            torch.cuda.synchronize()
            start = time.perf_counter()
            try:
                with torch.no_grad():
                    if path == "peft":
                        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                                             **kwargs)
                        n = out.shape[0] * (out.shape[1] - args.prompt_tokens)
                    elif path == "merged":
                        copy.sync()
                        out = copy.model.generate(input_ids=ids,
                                                  attention_mask=torch.ones_like(ids), **kwargs)
                        n = out.shape[0] * (out.shape[1] - args.prompt_tokens)
                    else:
                        from transformers import GenerationConfig

                        copy.sync()
                        config = GenerationConfig(**kwargs)
                        outs = copy.model.generate_batch(ids.tolist(), generation_config=config,
                                                         progress_bar=False)
                        n = sum(len(o.generated_tokens) for o in outs.values())
                torch.cuda.synchronize()
                seconds = time.perf_counter() - start
                rows.append((path, batch, seconds, batch / seconds, n / seconds, ""))
            except Exception as exc:  # report a path that does not run, keep measuring the rest
                rows.append((path, batch, float("nan"), float("nan"), float("nan"),
                             f"{type(exc).__name__}: {str(exc)[:120]}"))
            print(rows[-1], flush=True)
    print(f"\n| path | batch | seconds | completions/s | tokens/s | note |  ({args.new_tokens} "
          f"new tokens, prompt {args.prompt_tokens}, {torch.cuda.get_device_name()})")
    print("|---|---|---|---|---|---|")
    for path, batch, seconds, cps, tps, note in rows:
        print(f"| {path} | {batch} | {seconds:.2f} | {cps:.1f} | {tps:,.0f} | {note} |")


if __name__ == "__main__":
    main()
