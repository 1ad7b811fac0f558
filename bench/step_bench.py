#!/usr/bin/env python3
"""step_bench.py times the decoder steps of a fleetsim catalog model.

It builds a few decoder layers of the model's exact shapes (grouped-query
attention with RoPE, a SwiGLU MLP, RMSNorm) with random weights, times
prefill iterations at several token counts and decode iterations at several
batch sizes and context lengths, scales the layers' time to the model's full
layer count, adds the embedding lookup, final norm, LM head and greedy
sampling, and writes the step times as a fleetsim measurement CSV
(docs/measurements.md) that `fleetsim calibrate` fits. See bench/README.md
and docs/stepbench.md for what each row means.

Needs python3 and PyTorch only. `--print-catalog` needs no PyTorch: it prints
the script's model table, GPU ids and CSV header as JSON, which
bench/bench_test.go compares with the serving catalog and the measurements
package so that the two cannot drift apart.
"""

import argparse
import csv
import json
import math
import statistics
import sys
import time

# MODELS is the shape table of fleetsim's model catalog (serving/catalog.go),
# which takes each shape from the model's config.json on its publisher's model
# card (huggingface.co/meta-llama/<name>, mistralai/Mistral-7B-v0.1,
# Qwen/Qwen2-7B, Qwen/Qwen2-72B). bench/bench_test.go fails when this table
# and serving.Models() differ. Fields: num_hidden_layers, hidden_size,
# num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
# vocab_size, tie_word_embeddings.
MODELS = {
    "llama-3.1-8b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, intermediate=14336, vocab=128256, tied=False),
    "llama-3.1-70b": dict(layers=80, hidden=8192, heads=64, kv_heads=8, head_dim=128, intermediate=28672, vocab=128256, tied=False),
    "llama-3.1-405b": dict(layers=126, hidden=16384, heads=128, kv_heads=8, head_dim=128, intermediate=53248, vocab=128256, tied=False),
    "llama-2-7b": dict(layers=32, hidden=4096, heads=32, kv_heads=32, head_dim=128, intermediate=11008, vocab=32000, tied=False),
    "llama-2-70b": dict(layers=80, hidden=8192, heads=64, kv_heads=8, head_dim=128, intermediate=28672, vocab=32000, tied=False),
    "llama-3.2-3b": dict(layers=28, hidden=3072, heads=24, kv_heads=8, head_dim=128, intermediate=8192, vocab=128256, tied=True),
    "llama-3.2-1b": dict(layers=16, hidden=2048, heads=32, kv_heads=8, head_dim=64, intermediate=8192, vocab=128256, tied=True),
    "mistral-7b": dict(layers=32, hidden=4096, heads=32, kv_heads=8, head_dim=128, intermediate=14336, vocab=32000, tied=False),
    "qwen2-7b": dict(layers=28, hidden=3584, heads=28, kv_heads=4, head_dim=128, intermediate=18944, vocab=152064, tied=False),
    "qwen2-72b": dict(layers=80, hidden=8192, heads=64, kv_heads=8, head_dim=128, intermediate=29568, vocab=152064, tied=False),
}

# GPUS are the canonical ids of fleetsim's GPU catalog (serving/catalog.go);
# the measurement CSV accepts only these (no aliases). Checked by bench_test.go.
GPUS = ["a100-80gb", "a100-40gb", "h100", "h100-pcie", "h200", "b200", "gb200", "l4", "l40s", "mi300x", "mi325x"]

# HEADER is the measurement CSV header (measurements.Header()). Checked by bench_test.go.
HEADER = ["dataset", "gpu", "model", "tp", "precision", "framework", "mode",
          "batch", "isl", "osl", "tokens",
          "rate_rps", "output_tokens_per_s", "ttft_ms", "tpot_ms", "e2e_ms", "step_ms",
          "source"]

# DEFAULT_TOKEN_BUDGET is the token budget per iteration that `fleetsim
# calibrate` assumes for a framework it does not know (calibrate.EngineFor:
# vLLM's max_num_batched_tokens, 8192). A longer prompt is chunked by the
# model but timed here in one pass; the script warns.
DEFAULT_TOKEN_BUDGET = 8192

# RMS_EPS is rms_norm_eps of the Llama 3 config.json files (1e-5).
RMS_EPS = 1e-5
# ROPE_THETA is rope_theta of Llama 3.1's config.json (500000); it changes
# only the values of the rotation, not the work.
ROPE_THETA = 500000.0


def log(msg):
    print("step_bench: " + msg, file=sys.stderr, flush=True)


def int_list(s):
    try:
        vals = [int(v) for v in s.split(",") if v.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError("want comma-separated positive integers, got %r" % s)
    if not vals or any(v < 1 for v in vals):
        raise argparse.ArgumentTypeError("want comma-separated positive integers, got %r" % s)
    return vals


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Time decoder steps of a fleetsim catalog model (random weights) and write a measurement CSV.")
    p.add_argument("--print-catalog", action="store_true",
                   help="print the model table, GPU ids and CSV header as JSON and exit (no PyTorch needed)")
    p.add_argument("--model", default="llama-3.1-8b", help="fleetsim model catalog id")
    p.add_argument("--gpu", help="fleetsim GPU catalog id written in the gpu column (h200, h100, ...)")
    p.add_argument("--layers", type=int, default=2,
                   help="decoder layers built and timed; their time is scaled to the model's layer count")
    p.add_argument("--dtype", choices=["bf16", "fp16", "fp32"], default="bf16")
    p.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    p.add_argument("--prefill", type=int_list, default=[128, 512, 2048],
                   help="prompt lengths of the prefill rows (one prompt per iteration)")
    p.add_argument("--decode-batches", type=int_list, default=[1, 8, 32], help="sequences per decode step")
    p.add_argument("--contexts", type=int_list, default=[512, 2048],
                   help="tokens each decoding sequence attends to (KV cache, the new token included)")
    p.add_argument("--no-linear", action="store_true", help="do not write the linear-mode rows")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations before each measurement")
    p.add_argument("--repeats", type=int, default=10, help="timed iterations; the median is kept")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs")
    p.add_argument("--out", help="measurement CSV to write ('-' for stdout)")
    a = p.parse_args(argv)
    if a.print_catalog:
        return a
    problems = []
    if a.model not in MODELS:
        problems.append("--model %r is not a catalog id (one of %s)" % (a.model, ", ".join(sorted(MODELS))))
    if not a.gpu:
        problems.append("--gpu is required (a catalog id: %s)" % ", ".join(GPUS))
    elif a.gpu not in GPUS:
        problems.append("--gpu %r is not a canonical catalog id (one of %s)" % (a.gpu, ", ".join(GPUS)))
    if not a.out:
        problems.append("--out is required")
    if a.warmup < 0 or a.repeats < 1:
        problems.append("--warmup must be >= 0 and --repeats >= 1")
    if a.model in MODELS and not (1 <= a.layers <= MODELS[a.model]["layers"]):
        problems.append("--layers must be in [1, %d]" % MODELS[a.model]["layers"])
    if problems:
        p.error("; ".join(problems))
    return a


def print_catalog():
    json.dump({"models": MODELS, "gpus": GPUS, "header": HEADER}, sys.stdout, indent=1, sort_keys=True)
    print()


class Bench:
    """Bench holds the random weights of N decoder layers and the vocabulary matrix."""

    def __init__(self, torch, shape, n_layers, dtype, device, seed):
        self.torch = torch
        self.F = torch.nn.functional
        self.s = shape
        self.dtype = dtype
        self.device = device
        torch.manual_seed(seed)
        h, H, K, D, inter = shape["hidden"], shape["heads"], shape["kv_heads"], shape["head_dim"], shape["intermediate"]
        self.H, self.K, self.D = H, K, D

        def rand(out_f, in_f):
            # nn.Linear layout [out, in]; scale 1/sqrt(in) keeps activations O(1).
            w = torch.randn(out_f, in_f, device=device, dtype=dtype)
            return w.mul_(1.0 / math.sqrt(in_f))

        self.layers = []
        for i in range(n_layers):
            self.layers.append(dict(
                ln1=torch.ones(h, device=device, dtype=dtype),
                qkv=rand((H + 2 * K) * D, h),  # fused Q, K, V projection, as vLLM's QKVParallelLinear
                o=rand(h, H * D),
                ln2=torch.ones(h, device=device, dtype=dtype),
                gate_up=rand(2 * inter, h),  # fused gate and up projection, as vLLM's MergedColumnParallelLinear
                down=rand(h, inter),
            ))
            log("built layer %d/%d" % (i + 1, n_layers))
        # One vocab x hidden matrix serves as input embedding and LM head: the
        # head reads all of it either way, the lookup reads a few rows.
        self.vocab = rand(shape["vocab"], h)
        self.final_ln = torch.ones(h, device=device, dtype=dtype)
        self._gqa_kw = None  # whether SDPA takes enable_gqa (PyTorch >= 2.5); found on first use
        self._sdpa = getattr(self.F, "scaled_dot_product_attention", None)  # PyTorch >= 2.0
        self._rope_cache = {}

    # ---- building blocks ----

    def rmsnorm(self, x, w):
        xf = x.float()
        xf = xf * self.torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + RMS_EPS)
        return xf.to(x.dtype) * w

    def rope_table(self, n):
        """cos and sin of positions 0..n-1, shape [n, head_dim], rotate-half layout (HF Llama)."""
        t = self._rope_cache.get(n)
        if t is None:
            torch = self.torch
            D = self.D
            inv = 1.0 / (ROPE_THETA ** (torch.arange(0, D, 2, device=self.device, dtype=torch.float32) / D))
            pos = torch.arange(n, device=self.device, dtype=torch.float32)
            f = torch.outer(pos, inv)
            emb = torch.cat([f, f], dim=-1)
            t = (emb.cos().to(self.dtype), emb.sin().to(self.dtype))
            self._rope_cache[n] = t
        return t

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        rot = self.torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * cos + rot * sin

    def causal_attention(self, q, k, v):
        """Causal attention of q [B,H,T,D] over k, v [B,K,T,D] (grouped-query)."""
        torch = self.torch
        G = self.H // self.K
        if self._sdpa is not None:
            if G > 1 and self._gqa_kw is not False:
                try:
                    out = self._sdpa(q, k, v, is_causal=True, enable_gqa=True)
                    self._gqa_kw = True
                    return out
                except TypeError:
                    self._gqa_kw = False
            if G > 1:
                k = k.repeat_interleave(G, dim=1)
                v = v.repeat_interleave(G, dim=1)
            return self._sdpa(q, k, v, is_causal=True)
        # PyTorch < 2.0: explicit scores, mask and softmax.
        if G > 1:
            k = k.repeat_interleave(G, dim=1)
            v = v.repeat_interleave(G, dim=1)
        T = q.shape[-2]
        scores = torch.matmul(q, k.transpose(-1, -2)).float() * (1.0 / math.sqrt(self.D))
        mask = torch.ones(T, T, device=self.device, dtype=torch.bool).triu(1)
        scores.masked_fill_(mask, float("-inf"))
        return torch.matmul(scores.softmax(-1).to(q.dtype), v)

    def decode_attention(self, q, k_cache, v_cache):
        """One new token per sequence: q [B,H,1,D] over the whole cache [B,K,C,D].

        The G = H/K query heads that share a KV head are laid out as G query
        rows of that KV head ([B,K,G,D]), so the cache is read once per KV
        head and never copied, as grouped-query decode kernels do.
        """
        B = q.shape[0]
        qg = q.reshape(B, self.K, self.H // self.K, self.D)
        if self._sdpa is not None:
            out = self._sdpa(qg, k_cache, v_cache)
        else:
            torch = self.torch
            s = torch.matmul(qg, k_cache.transpose(-1, -2)).float() * (1.0 / math.sqrt(self.D))
            out = torch.matmul(s.softmax(-1).to(q.dtype), v_cache)
        return out.reshape(B, 1, self.H * self.D)

    def qkv(self, L, x, cos, sin):
        B, T = x.shape[0], x.shape[1]
        H, K, D = self.H, self.K, self.D
        h = self.rmsnorm(x, L["ln1"])
        q, k, v = self.F.linear(h, L["qkv"]).split([H * D, K * D, K * D], dim=-1)
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, K, D).transpose(1, 2)
        v = v.view(B, T, K, D).transpose(1, 2)
        return self.rope(q, cos, sin), self.rope(k, cos, sin), v

    def mlp(self, L, x, a):
        F = self.F
        x = x + F.linear(a, L["o"])
        h = self.rmsnorm(x, L["ln2"])
        g, u = F.linear(h, L["gate_up"]).chunk(2, dim=-1)
        return x + F.linear(F.silu(g) * u, L["down"])

    # ---- timed pieces ----

    def prefill_layers(self, x, attention=True):
        """All layers on x [B,T,hidden]: B prompts of T tokens each, positions 0..T-1.

        With attention=False the attention core is skipped (its input q is
        passed to the O projection): what is left is one layer's linear
        operators, norms, RoPE and activations (the linear rows).
        """
        B, T = x.shape[0], x.shape[1]
        cos, sin = self.rope_table(T)
        for L in self.layers:
            q, k, v = self.qkv(L, x, cos, sin)
            a = self.causal_attention(q, k, v) if attention else q
            x = self.mlp(L, x, a.transpose(1, 2).reshape(B, T, self.H * self.D))
        return x

    def decode_layers(self, x, caches, ctx):
        """All layers on x [B,1,hidden]: one new token per sequence at position ctx-1.

        Its key and value are written into slot ctx-1 of each layer's cache
        and attention covers all ctx slots.
        """
        cos, sin = self.rope_table(ctx)
        cos, sin = cos[ctx - 1:ctx], sin[ctx - 1:ctx]
        for L, (kc, vc) in zip(self.layers, caches):
            q, k, v = self.qkv(L, x, cos, sin)
            kc[:, :, ctx - 1:ctx].copy_(k)
            vc[:, :, ctx - 1:ctx].copy_(v)
            x = self.mlp(L, x, self.decode_attention(q, kc, vc))
        return x

    def outer(self, ids, last):
        """Work outside the layers: embedding lookup of ids, final norm, LM head and argmax of last [S,hidden]."""
        e = self.F.embedding(ids, self.vocab)
        logits = self.F.linear(self.rmsnorm(last, self.final_ln), self.vocab)
        return e, logits.argmax(-1)


def timer(torch, device, warmup, repeats):
    """timer returns a function that gives the median seconds of fn over repeats, after warmup runs."""

    def run(fn):
        for _ in range(warmup):
            fn()
        times = []
        if device == "cuda":
            torch.cuda.synchronize()
            for _ in range(repeats):
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                times.append(start.elapsed_time(end) / 1e3)
        else:
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
        return statistics.median(times)

    return run


def fmt(v):
    # Six significant digits: far finer than the run-to-run spread of a timing.
    return "%.6g" % v


def main(argv):
    a = parse_args(argv)
    if a.print_catalog:
        print_catalog()
        return 0
    try:
        import torch
    except ImportError as e:
        log("cannot import torch: %s" % e)
        return 2
    if a.device == "cuda" and not torch.cuda.is_available():
        log("--device cuda: torch.cuda.is_available() is false")
        return 2
    shape = MODELS[a.model]
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[a.dtype]
    # The CSV's precision column knows bf16 and fp8. fp16 moves the same bytes
    # at the same tensor-core rate as bf16; fp32 does not, and is for testing
    # the script on CPUs only.
    if a.dtype == "fp32":
        log("warning: --dtype fp32 rows are written with precision bf16 (the format has no fp32); do not calibrate on them")
    for t in a.prefill:
        if t > DEFAULT_TOKEN_BUDGET:
            log("warning: prefill of %d tokens is timed in one pass; the model chunks it into iterations of %d"
                % (t, DEFAULT_TOKEN_BUDGET))
    full = shape["layers"]
    scale = full / a.layers
    dev_name = torch.cuda.get_device_name(0) if a.device == "cuda" else "cpu"
    log("torch %s on %s, %s, %d of %d layers (times x %.3g), dtype %s"
        % (torch.__version__, dev_name, a.model, a.layers, full, scale, a.dtype))

    b = Bench(torch, shape, a.layers, dtype, a.device, a.seed)
    measure = timer(torch, a.device, a.warmup, a.repeats)
    hidden = shape["hidden"]
    gen = torch.Generator(device="cpu").manual_seed(a.seed + 1)

    def acts(B, T):
        return torch.randn(B, T, hidden, generator=gen).to(device=a.device, dtype=dtype)

    def ids(n):
        return torch.randint(0, shape["vocab"], (n,), generator=gen).to(a.device)

    def step_seconds(layers_s, outer_s):
        # Full-model step: the timed layers scaled to every layer, plus the
        # embedding lookup, final norm, LM head and argmax, timed once.
        return layers_s * scale + outer_s

    def prefill_seconds(B, T):
        x, tok, last = acts(B, T), ids(B * T), acts(B, 1).reshape(B, hidden)
        lay = measure(lambda: b.prefill_layers(x))
        out = measure(lambda: b.outer(tok, last))
        return step_seconds(lay, out)

    source = "stepbench %s layers=%d/%d dtype=%s torch=%s device=%s" % (
        a.model, a.layers, full, a.dtype, torch.__version__, dev_name.replace(",", " "))
    base = dict(dataset="stepbench", gpu=a.gpu, model=a.model, tp="1", precision="bf16", framework="pytorch")
    rows = []

    def row(mode, **cells):
        r = {c: "" for c in HEADER}
        r.update(base)
        r["mode"] = mode
        r.update(cells)
        rows.append(r)

    with torch.inference_mode():
        # Prefill rows: a static batch of one prompt of T tokens and one
        # output token: the whole time is one prefill iteration.
        for T in a.prefill:
            s = prefill_seconds(1, T)
            log("prefill %d tokens: %.3f ms" % (T, 1e3 * s))
            row("static", batch="1", isl=str(T), osl="1", ttft_ms=fmt(1e3 * s), e2e_ms=fmt(1e3 * s),
                output_tokens_per_s=fmt(1 / s), source=source + " prefill tokens=%d" % T)

        # Decode rows: a static batch of B one-token prompts and osl = 2C-2
        # output tokens. Its osl-1 decode steps attend to 2..2C-2 tokens per
        # sequence, C on average, so under the step model (linear in context)
        # they take (osl-1) x the measured step at context C.
        for B in a.decode_batches:
            first = prefill_seconds(B, 1)
            for C in a.contexts:
                if C < 2:
                    log("skip context %d: a decode step needs >= 2 tokens" % C)
                    continue
                kvshape = (B, shape["kv_heads"], C, shape["head_dim"])
                # One cache per layer, filled on the device (seeded by --seed):
                # a shared one would sit in cache memory across layers.
                caches = [(torch.randn(kvshape, device=a.device, dtype=dtype),
                           torch.randn(kvshape, device=a.device, dtype=dtype))
                          for _ in range(a.layers)]
                x, tok, last = acts(B, 1), ids(B), acts(B, 1).reshape(B, hidden)
                lay = measure(lambda: b.decode_layers(x, caches, C))
                out = measure(lambda: b.outer(tok, last))
                del caches
                step = step_seconds(lay, out)
                osl = 2 * C - 2
                e2e = first + (osl - 1) * step
                log("decode batch %d context %d: %.3f ms per step" % (B, C, 1e3 * step))
                row("static", batch=str(B), isl="1", osl=str(osl), ttft_ms=fmt(1e3 * first),
                    tpot_ms=fmt(1e3 * step), e2e_ms=fmt(1e3 * e2e), output_tokens_per_s=fmt(B * osl / e2e),
                    source=source + " decode batch=%d context=%d" % (B, C))

        # Linear rows: one layer's operators without the attention core, at
        # every token count a prefill or decode iteration above ran.
        if not a.no_linear:
            for T in sorted(set(a.prefill) | set(a.decode_batches)):
                x = acts(1, T)
                s = measure(lambda: b.prefill_layers(x, attention=False)) / a.layers
                log("linear %d tokens: %.4f ms per layer" % (T, 1e3 * s))
                row("linear", tokens=str(T), step_ms=fmt(1e3 * s), source=source + " linear tokens=%d" % T)

    if a.out == "-":
        f = sys.stdout
    else:
        f = open(a.out, "w", newline="")
    try:
        w = csv.DictWriter(f, fieldnames=HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    finally:
        if f is not sys.stdout:
            f.close()
    log("wrote %d rows to %s" % (len(rows), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
