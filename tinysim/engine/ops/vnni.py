"""The dot path's micro-kernel on AVX-512 VNNI: `vpdpbusd` (uint8 x int8, 4 products summed into
each int32 lane, no saturation) called directly from LLVM IR, 64 bytes of a row per instruction.

LLVM does not form `vpdpbusd` from Numba's loops: the portable `dot_block` (conv.py) widens every
byte to a 32-bit lane and its `vpdpwssd` does 16 MACs per instruction; this one does 64.

Exactness: the patch holds x + 128 in [0, 255] and the weights are int8, so each group of four
products is at most 4 * 255 * 128 < 2**31 and `vpdpbusd` (unlike `vpdpbusds`) wraps like int32
additions: the same int32 sums as `dot_block`, whose true values fit in int32.

Used only where the host CPU has AVX-512 VNNI and Numba compiles for the host (`HAVE_VNNI`);
Numba's on-disk cache is keyed by CPU name and features, so a cache never crosses machines;
`TINYSIM_NO_VNNI=1` (tests of the portable kernel) gets its own cache folder (engine/jit.py), since cached
callers keep the choice they were compiled with.
The intrinsic reads raw pointers (no bounds checks even with NUMBA_BOUNDSCHECK=1), so
`dot_block_vnni` checks the block's extent once per call.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from tinysim.engine.jit import host_cpu_has, kernel

HAVE_VNNI = host_cpu_has("avx512f", "avx512bw", "avx512vnni")

_I8, _I32, _I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
_V16 = ir.VectorType(_I32, 16)  # one zmm: 16 int32 lanes, or 64 bytes
_V4 = ir.VectorType(_I32, 4)  # one xmm
_B16 = ir.VectorType(_I8, 16)
_V4I, _V8I = ir.VectorType(_I32, 4), ir.VectorType(_I32, 8)  # shuffle masks


@intrinsic
def dot4x4(typingctx, patch, w, bias, acc, xb, wb, k, ab, oc, o):
    """acc[ab + r*oc + o + c] = bias[o + c] + patch[xb + r*k : +k] . w[wb + c*k : +k] for r, c < 4.

    k must be a multiple of 16: 64 bytes per step in zmm accumulators, then the last k % 64 bytes
    16 per step (zero-extended loads); each pixel's four channel sums are reduced together by a
    transpose-sum and stored with the bias as one vector.
    """
    sig = types.none(patch, w, bias, acc, types.int64, types.int64, types.int64, types.int64, types.int64, types.int64)

    def codegen(context, builder, signature, args):
        pa, wa, ba, aa, xbv, wbv, kv, abv, ocv, ov = args

        def data(i, value, elem):
            ptr = cgutils.create_struct_proxy(signature.args[i])(context, builder, value=value).data
            return builder.bitcast(ptr, elem.as_pointer())

        pdata, wdata, bdata, adata = data(0, pa, _I8), data(1, wa, _I8), data(2, ba, _I32), data(3, aa, _I32)
        dp = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_V16, [_V16, _V16, _V16]), "llvm.x86.avx512.vpdpbusd.512"
        )
        c = lambda v: ir.Constant(_I64, v)
        n64 = builder.udiv(kv, c(64))
        n16 = builder.udiv(builder.urem(kv, c(64)), c(16))
        xrow = [builder.add(xbv, builder.mul(kv, c(r))) for r in range(4)]
        wrow = [builder.add(wbv, builder.mul(kv, c(r))) for r in range(4)]
        fn = builder.function
        pre = builder.block
        head, body = fn.append_basic_block("vnni.head"), fn.append_basic_block("vnni.body")
        check = fn.append_basic_block("vnni.check")
        thead, tbody = fn.append_basic_block("vnni.thead"), fn.append_basic_block("vnni.tbody")
        done = fn.append_basic_block("vnni.done")
        builder.branch(head)

        builder.position_at_end(head)  # 64 bytes per row per step
        i = builder.phi(_I64)
        i.add_incoming(c(0), pre)
        accs = []
        for _ in range(16):
            ph = builder.phi(_V16)
            ph.add_incoming(ir.Constant(_V16, None), pre)
            accs.append(ph)
        builder.cbranch(builder.icmp_unsigned("<", i, n64), body, check)
        builder.position_at_end(body)
        off = builder.mul(i, c(64))

        def load(base, row, at, vt):
            return builder.load(builder.bitcast(builder.gep(base, [builder.add(row, at)]), vt.as_pointer()), align=1)

        xs = [load(pdata, r, off, _V16) for r in xrow]
        ws = [load(wdata, r, off, _V16) for r in wrow]
        new = [builder.call(dp, [accs[r * 4 + q], xs[r], ws[q]]) for r in range(4) for q in range(4)]
        end = builder.block
        i.add_incoming(builder.add(i, c(1)), end)
        for a, v in zip(accs, new):
            a.add_incoming(v, end)
        builder.branch(head)

        builder.position_at_end(check)  # the last k % 64 bytes, 16 per step, zero-extended to 64
        builder.branch(thead)
        builder.position_at_end(thead)
        j = builder.phi(_I64)
        j.add_incoming(c(0), check)
        taccs = []
        for a in accs:
            ph = builder.phi(_V16)
            ph.add_incoming(a, check)
            taccs.append(ph)
        builder.cbranch(builder.icmp_unsigned("<", j, n16), tbody, done)
        builder.position_at_end(tbody)
        toff = builder.add(builder.mul(n64, c(64)), builder.mul(j, c(16)))
        widen = ir.Constant(ir.VectorType(_I32, 64), [min(16, q) for q in range(64)])

        def load16(base, row):
            v = load(base, row, toff, _B16)
            return builder.bitcast(builder.shuffle_vector(v, ir.Constant(_B16, None), widen), _V16)

        txs = [load16(pdata, r) for r in xrow]
        tws = [load16(wdata, r) for r in wrow]
        tnew = [builder.call(dp, [taccs[r * 4 + q], txs[r], tws[q]]) for r in range(4) for q in range(4)]
        tend = builder.block
        j.add_incoming(builder.add(j, c(1)), tend)
        for a, v in zip(taccs, tnew):
            a.add_incoming(v, tend)
        builder.branch(thead)

        # per pixel: a 4 x 4 transpose-sum inside each 128-bit lane turns its four channel
        # accumulators into one vector of per-lane partial sums (channel order), then 16 -> 4 lanes
        builder.position_at_end(done)
        bvec = builder.load(builder.bitcast(builder.gep(bdata, [ov]), _V4.as_pointer()), align=4)

        def mix(a, b, pattern):  # the same 4-element pattern in each 128-bit lane; >= 4 picks from b
            m = [4 * g + (e if e < 4 else 16 + e - 4) for g in range(4) for e in pattern]
            return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(_I32, 16), m))

        for r in range(4):
            a0, a1, a2, a3 = taccs[r * 4 : r * 4 + 4]
            u0 = builder.add(mix(a0, a1, [0, 4, 1, 5]), mix(a0, a1, [2, 6, 3, 7]))  # a0 02, a1 02, a0 13, a1 13
            u1 = builder.add(mix(a2, a3, [0, 4, 1, 5]), mix(a2, a3, [2, 6, 3, 7]))
            v = builder.add(mix(u0, u1, [0, 1, 4, 5]), mix(u0, u1, [2, 3, 6, 7]))  # a0, a1, a2, a3 per lane
            h = builder.add(builder.shuffle_vector(v, v, ir.Constant(_V8I, list(range(8)))),
                            builder.shuffle_vector(v, v, ir.Constant(_V8I, list(range(8, 16)))))
            v4 = builder.add(builder.shuffle_vector(h, h, ir.Constant(_V4I, [0, 1, 2, 3])),
                             builder.shuffle_vector(h, h, ir.Constant(_V4I, [4, 5, 6, 7])))
            at = builder.add(builder.add(abv, builder.mul(ocv, c(r))), ov)
            builder.store(builder.add(v4, bvec), builder.bitcast(builder.gep(adata, [at]), _V4.as_pointer()), align=4)
        return context.get_dummy_value()

    return sig, codegen


@kernel
def dot_block_vnni(patch, w, bias, acc, tn, k, oc):
    """`dot_block` (conv.py) with `vpdpbusd`: acc[t, o] = bias[o] + sum_q patch[t, q] * w[o, q].

    4 x 4 blocks through `dot4x4`; leftover channels and pixels with plain int32 loops.
    k must be a multiple of 16 (the dot path's row stride).
    """
    if k % 16 != 0 or tn * k > patch.shape[0] or oc * k > w.shape[0] or tn * oc > acc.shape[0] or oc > bias.shape[0]:
        raise ValueError("dot_block_vnni: block outside its arrays")
    t4 = tn - tn % 4
    o4 = oc - oc % 4
    for t in range(0, t4, 4):
        for o in range(0, o4, 4):
            dot4x4(patch, w, bias, acc, t * k, o * k, k, t * oc, oc, o)
    for t in range(tn):
        lo = o4 if t < t4 else 0  # pixels of whole 4-blocks lack only the leftover channels
        xb = np.uint64(t * k)
        for o in range(lo, oc):
            wb = np.uint64(o * k)
            s0 = np.int32(0)
            for q in range(k):
                u = np.uint64(q)
                s0 = np.int32(s0 + np.int32(patch[xb + u]) * np.int32(w[wb + u]))
            acc[t * oc + o] = bias[o] + s0
