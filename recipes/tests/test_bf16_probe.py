"""bf16_probe.py: oneDNN's verbose lines name the kernel bf16 really ran on, and the probe agrees with the CPU."""

import json
import os
import subprocess
import sys

import pytest

import bf16_probe
from conftest import COMMON

INFO = ("onednn_verbose,v1,info,oneDNN v3.12.0 (commit 80afa71049cd69a3df32adcccb623b12cd7baa22)\n"
        "onednn_verbose,v1,info,cpu,isa:Intel AVX-512 with Intel DL Boost and bfloat16 support\n")
# Recorded on this machine (AMD EPYC, avx512_bf16, oneDNN 3.12 in torch 2.13):
AVX512_BF16 = ("onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core_bf16,undef,"
               "src:bf16::blocked:ab::f0 wei:bf16::blocked:ba::f0 dst:bf16::blocked:ab::f0,"
               "attr-scratchpad:user attr-post-ops:sum,,64x256:256x256,17.23\n")
# Sapphire Rapids (oneDNN 3.x), and the oneDNN 2.x layout (no v1 / primitive fields, src_bf16 descriptors).
AMX = ("onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core_amx,undef,"
       "src:bf16::blocked:ab::f0 wei:bf16:a:blocked:AB16b64a2b::f0 dst:bf16::blocked:ab::f0,"
       "attr-scratchpad:user,,64x256:256x256,0.05\n")
AMX_2X = ("onednn_verbose,exec,cpu,inner_product,brgemm:avx512_core_amx_bf16,forward_training,"
          "src_bf16::blocked:ab:f0 wei_bf16::blocked:AB16b64a2b:f0 bia_f32::blocked:a:f0 dst_bf16::blocked:ab:f0,"
          ",,mb64ic256oc256,0.08\n")
# AVX-512 without bf16 instructions: oneDNN converts through f32.
EMULATED = ("onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core,undef,"
            "src:bf16::blocked:ab::f0 wei:bf16::blocked:ba::f0 dst:bf16::blocked:ab::f0,,,64x256:256x256,0.9\n")
F32_ON_AMX = ("onednn_verbose,v1,primitive,exec,cpu,matmul,brg_matmul:avx512_core_amx,undef,"
              "src:f32::blocked:ab::f0 wei:f32::blocked:ba::f0 dst:f32::blocked:ab::f0,,,64x256:256x256,0.2\n")
REORDER = ("onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,"
           "src:f32::blocked:ab::f0 dst:bf16::blocked:ab::f0,,,256x256,0.01\n")


@pytest.mark.parametrize("text,expected", [
    (INFO + AVX512_BF16, {"bf16_kernels": "avx512_bf16", "isa": "avx512_core_bf16"}),
    (INFO + REORDER + AMX + AVX512_BF16, {"bf16_kernels": "amx", "isa": "avx512_core_amx"}),
    (AMX_2X, {"bf16_kernels": "amx", "isa": "avx512_core_amx_bf16"}),
    (INFO + EMULATED, {"bf16_kernels": "none", "isa": "avx512_core"}),
    # f32 work on an AMX kernel says nothing about bf16; no oneDNN bf16 primitive: PyTorch's own code ran.
    (INFO + F32_ON_AMX + REORDER, {"bf16_kernels": "none", "isa": None}),
    ("", {"bf16_kernels": "none", "isa": None}),
])
def test_parses_each_isa_from_recorded_verbose_lines(text, expected):
    assert bf16_probe.parse_verbose(text) == expected


def cpu_flags() -> set:
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


@pytest.mark.skipif(not os.path.exists("/proc/cpuinfo"), reason="needs Linux's /proc/cpuinfo")
def test_the_probe_agrees_with_the_cpu_flags():
    proc = subprocess.run([sys.executable, os.path.join(COMMON, "bf16_probe.py")], capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    flags = cpu_flags()
    print(f"bf16 probe: {result}; cpu flags amx_bf16={'amx_bf16' in flags} avx512_bf16={'avx512_bf16' in flags}")
    if "amx_bf16" in flags:
        assert result == {"bf16_kernels": "amx", "isa": result["isa"]} and "amx" in result["isa"]
    elif "avx512_bf16" in flags:
        assert result["bf16_kernels"] == "avx512_bf16" and "bf16" in result["isa"]
    else:
        assert result["bf16_kernels"] == "none"
