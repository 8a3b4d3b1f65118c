"""Which CPU kernels bf16 really gets: prints ONE json line
`{"bf16_kernels": "amx" | "avx512_bf16" | "none", "isa": <oneDNN kernel ISA or null>}`.

CPU flags only say what the chip could do; the kernel oneDNN picks is what the training step gets. The probe
runs a bf16-autocast Linear (as Trainer's bf16 does) in a child python with ONEDNN_VERBOSE=1, which makes
oneDNN print one line per executed primitive naming its implementation (e.g. `brg_matmul:avx512_core_amx`),
and reads those lines. No oneDNN bf16 primitive at all means PyTorch's own (emulated) bf16 code ran: none.
Exit 1 (and no json) when the child fails: the caller then knows nothing (its 'unknown').
"""

import json
import os
import re
import subprocess
import sys

# bf16 autocast Linear and matmul: the ops a transformer's training step spends its time in.
WORKLOAD = """
import torch
torch.manual_seed(0)
x = torch.randn(64, 256)
layer = torch.nn.Linear(256, 256)
with torch.autocast("cpu", dtype=torch.bfloat16):
    y = layer(x)
    z = torch.matmul(y, y.t())
print("bf16 probe:", z.dtype, flush=True)
"""
CHILD_TIMEOUT_S = 120
# `<implementation>:<isa>` in an exec line, e.g. brg_matmul:avx512_core_amx, brgemm:avx512_core_bf16.
_KERNEL = re.compile(r",[a-z0-9_]+:((?:avx|amx|sse)[a-z0-9_]*)")
# A bf16 tensor among the primitive's memory descriptors: `src:bf16::blocked:ab::f0` (older: `src_bf16::...`).
_BF16_MEMORY = re.compile(r"\b(?:src|wei|dst)\w*?[:_]bf16\b")
_RANK = {"none": 0, "avx512_bf16": 1, "amx": 2}


def kernels_of_isa(isa: str) -> str:
    if "amx" in isa:
        return "amx"
    if "avx512" in isa and "bf16" in isa:
        return "avx512_bf16"
    return "none"  # e.g. avx512_core: bf16 converted to f32 and back, no native bf16 instructions


def parse_verbose(text: str) -> dict:
    """The best bf16 kernel among oneDNN's executed primitives in ONEDNN_VERBOSE output."""
    best = {"bf16_kernels": "none", "isa": None}
    for line in text.splitlines():
        fields = line.split(",")
        if not fields[0].endswith("_verbose") or "exec" not in fields[:4] or not _BF16_MEMORY.search(line):
            continue
        match = _KERNEL.search(line)
        if match is None:
            continue
        kernels = kernels_of_isa(match.group(1))
        if best["isa"] is None or _RANK[kernels] > _RANK[best["bf16_kernels"]]:
            best = {"bf16_kernels": kernels, "isa": match.group(1)}
    return best


def probe(python: str = sys.executable) -> dict:
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "DNNL_VERBOSE": "1"}
    proc = subprocess.run([python, "-c", WORKLOAD], capture_output=True, text=True, env=env,
                          timeout=CHILD_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"the bf16 workload failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    return parse_verbose(proc.stdout)


def main() -> int:
    try:
        result = probe()
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print(f"bf16_probe: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
