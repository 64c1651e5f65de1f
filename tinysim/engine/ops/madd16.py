"""The dot path's GEMM on AVX2 without VNNI: `vpmaddwd` (int16 x int16, pairs summed into int32 lanes)
called from LLVM IR, 8 output channels per ymm register, 16 MACs per instruction.

LLVM does not form `vpmaddwd` from the portable `dot_block` (conv.py): it widens every byte to
a 32-bit lane and multiplies with `vpmulld`, 8 MACs per (slow) instruction, and reduces each
(pixel, channel) sum across lanes at the end, which dominates at the short rows (k = 16 .. 64)
of MobileNet's 1x1 convs. Here, as in ruy's AVX2 kernel, the lanes are output channels instead:
a pixel's pair of patch values (x[2j], x[2j + 1]) is broadcast and multiplied with the packed
weight pairs (w[o][2j], w[o][2j + 1]) of 8 channels, so a 4-pixel x 16-channel tile needs no
reduction at all.

Exactness: patch values are x - zp_in (conv) or x (FULLY_CONNECTED, zp_in folded into its bias) and
weights w - zp_w, all in [-255, 255], so each product pair is below 2 * 255 * 255 < 2**31
(`vpmaddwd` wraps only for two (-32768)**2 products) and the int32 lane additions wrap like the
reference's int32 accumulator: the same int32 sums.

Used where the host has AVX2 but no AVX-512 VNNI (vnni.py is faster there); TINYSIM_NO_VNNI=1
(the portable kernels' tests) turns it off too.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from tinysim.engine.jit import kernel
from tinysim.engine.ops.im2col import gather
from tinysim.engine.ops.requant import HAVE_AVX2, requantize_row8, round8
from tinysim.engine.ops.vnni import HAVE_VNNI

HAVE_MADD16 = HAVE_AVX2 and not HAVE_VNNI
ROWS = 4  # pixels per tile: 4 x 2 accumulators + 2 weight vectors + a broadcast fit in 16 ymm

_I8, _I16, _I32, _I64 = ir.IntType(8), ir.IntType(16), ir.IntType(32), ir.IntType(64)
_W = ir.VectorType(_I16, 16)  # one ymm of int16: 8 channels x a pair of k
_A = ir.VectorType(_I32, 8)  # one ymm of int32 accumulators: 8 channels
_O = ir.VectorType(_I8, 8)  # 8 int8 outputs


def _products(builder, pdata, wdata, pbv, krv, npv, wbv, wsv, rows: int, vectors: int) -> list:
    """The k loop of a tile: rows x vectors <8 x i32> sums (no bias), the builder left after the loop.

    Row r's patch pairs at pdata[pb + r*kr + 2j]; vector v's weight pairs at wdata[wb + v*ws + 16j].
    """
    madd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_A, [_W, _W]), "llvm.x86.avx2.pmadd.wd")
    c = lambda v: ir.Constant(_I64, v)
    starts = [builder.add(pbv, builder.mul(krv, c(r))) for r in range(rows)]
    wrow = [builder.add(wbv, builder.mul(wsv, c(v))) for v in range(vectors)]
    fn = builder.function
    pre = builder.block
    head, body, done = (fn.append_basic_block(f"madd.{s}") for s in ("head", "body", "done"))
    builder.branch(head)

    builder.position_at_end(head)
    j = builder.phi(_I64)
    j.add_incoming(c(0), pre)
    accs = []
    for _ in range(rows * vectors):
        ph = builder.phi(_A)
        ph.add_incoming(ir.Constant(_A, None), pre)
        accs.append(ph)
    builder.cbranch(builder.icmp_unsigned("<", j, npv), body, done)

    builder.position_at_end(body)
    ws_ = []
    for v in range(vectors):
        at = builder.add(wrow[v], builder.mul(j, c(16)))
        ws_.append(builder.load(builder.bitcast(builder.gep(wdata, [at]), _W.as_pointer()), align=2))
    new = []
    splat = ir.Constant(ir.VectorType(_I32, 8), [0] * 8)
    for r in range(rows):
        at = builder.add(starts[r], builder.mul(j, c(2)))
        pair = builder.load(builder.bitcast(builder.gep(pdata, [at]), _I32.as_pointer()), align=2)
        vec = builder.insert_element(ir.Constant(_A, None), pair, ir.Constant(_I32, 0))
        xb = builder.bitcast(builder.shuffle_vector(vec, ir.Constant(_A, None), splat), _W)
        for v in range(vectors):
            new.append(builder.add(accs[r * vectors + v], builder.call(madd, [xb, ws_[v]])))
    end = builder.block
    j.add_incoming(builder.add(j, c(1)), end)
    for a, v in zip(accs, new):
        a.add_incoming(v, end)
    builder.branch(head)
    builder.position_at_end(done)
    return accs


def _data(context, builder, arytype, value, elem):
    ptr = cgutils.create_struct_proxy(arytype)(context, builder, value=value).data
    return builder.bitcast(ptr, elem.as_pointer())


def _vector(builder, base, at, vt):
    return builder.bitcast(builder.gep(base, [at]), vt.as_pointer())


def _typed(*pairs) -> bool:
    return all(isinstance(a, types.Array) and a.dtype == d for a, d in pairs)


def _tile(rows: int, vectors: int):
    """An intrinsic computing a `rows`-pixel x (8 * vectors)-channel tile into int32 accumulators."""

    def tile(typingctx, patch, wp, bias, acc, pb, kr, pairs, wb, ws, ab, ocp, o):
        """acc[ab + r*ocp + o + c] = bias[o + c] + sum_j patch[pb + r*kr + 2j : +2] . wp pairs of channel o + c.

        Packed weights: vector v's pair j is the 16 int16 at wp[wb + v*ws + 16j]: (w[o'][2j], w[o'][2j+1])
        for its 8 channels o'.
        """
        if not _typed((patch, types.int16), (wp, types.int16), (bias, types.int32), (acc, types.int32)):
            return None  # a typing error: the codegen reads raw int16 / int32 data
        sig = types.none(patch, wp, bias, acc, *([types.int64] * 8))

        def codegen(context, builder, signature, args):
            pa, wa, ba, aa, pbv, krv, npv, wbv, wsv, abv, ocv, ov = args
            at = signature.args
            pdata, wdata = _data(context, builder, at[0], pa, _I16), _data(context, builder, at[1], wa, _I16)
            bdata, adata = _data(context, builder, at[2], ba, _I32), _data(context, builder, at[3], aa, _I32)
            accs = _products(builder, pdata, wdata, pbv, krv, npv, wbv, wsv, rows, vectors)
            c = lambda v: ir.Constant(_I64, v)
            for v in range(vectors):
                bvec = builder.load(_vector(builder, bdata, builder.add(ov, c(8 * v)), _A), align=4)
                for r in range(rows):
                    to = builder.add(builder.add(abv, builder.mul(ocv, c(r))), builder.add(ov, c(8 * v)))
                    builder.store(builder.add(accs[r * vectors + v], bvec), _vector(builder, adata, to, _A), align=4)
            return context.get_dummy_value()

        return sig, codegen

    return intrinsic(tile)


def _tile_out(rows: int, vectors: int):
    """`_tile` with the output stage fused: int8 outputs straight from the registers (requant.round8)."""

    def tile(typingctx, patch, wp, bias, mult, shift, out, pb, kr, pairs, wb, ws, ob, oc, o, zp_out, lo, hi, ruy):
        """out[ob + r*oc + o + c] = requantized (bias[o + c] + the tile's sums), per-channel mult, shift
        (all <= 0); returns how many outputs equal zp_out."""
        if not _typed((patch, types.int16), (wp, types.int16), (bias, types.int32), (mult, types.int32),
                      (shift, types.int32), (out, types.int8)):  # fmt: skip
            return None
        sig = types.int64(patch, wp, bias, mult, shift, out, *([types.int64] * 12))

        def codegen(context, builder, signature, args):
            pa, wa, ba, ma, sa, oa, pbv, krv, npv, wbv, wsv, obv, ocv, ov, zpv, lov, hiv, ruyv = args
            at = signature.args
            pdata, wdata = _data(context, builder, at[0], pa, _I16), _data(context, builder, at[1], wa, _I16)
            bdata, mdata = _data(context, builder, at[2], ba, _I32), _data(context, builder, at[3], ma, _I32)
            sdata, odata = _data(context, builder, at[4], sa, _I32), _data(context, builder, at[5], oa, _I8)
            accs = _products(builder, pdata, wdata, pbv, krv, npv, wbv, wsv, rows, vectors)
            c = lambda v: ir.Constant(_I64, v)
            zeros = c(0)
            for v in range(vectors):
                ch = builder.add(ov, c(8 * v))
                bvec = builder.load(_vector(builder, bdata, ch, _A), align=4)
                mvec = builder.load(_vector(builder, mdata, ch, _A), align=4)
                svec = builder.load(_vector(builder, sdata, ch, _A), align=4)
                for r in range(rows):
                    q, z = round8(builder, builder.add(accs[r * vectors + v], bvec), mvec, svec, zpv, lov, hiv, ruyv)
                    to = builder.add(builder.add(obv, builder.mul(ocv, c(r))), ch)
                    builder.store(builder.trunc(q, _O), _vector(builder, odata, to, _O), align=1)
                    zeros = builder.add(zeros, z)
            return zeros

        return sig, codegen

    return intrinsic(tile)


_tile16 = _tile(ROWS, 2)
_tile8 = _tile(ROWS, 1)
_out16 = _tile_out(ROWS, 2)
_out8 = _tile_out(ROWS, 1)
_row32 = _tile(1, 4)  # one pixel (FULLY_CONNECTED's batch row): more channels per broadcast instead
_row8 = _tile(1, 1)


def pack_weights(wk: np.ndarray, kr: int) -> np.ndarray:
    """(oc, k) int weights (zero point subtracted) -> the int16 layout of `madd_block`: blocks of 8
    channels (oc padded with zero channels), in each the pairs (w[o][2j], w[o][2j+1]) of its 8 channels
    for j < kr / 2 (k padded with zero weights)."""
    oc, k = wk.shape
    ocp = -(-oc // 8) * 8
    w = np.zeros((ocp, kr), np.int16)
    w[:oc, :k] = wk
    return w.reshape(ocp // 8, 8, kr // 2, 2).transpose(0, 2, 1, 3).ravel()


@kernel
def madd_block(patch, wp, bias, acc, tn, kr, ocp):
    """acc[t, o] = bias[o] + sum_q patch[t, q] * w[o, q] for t < tn rounded up to ROWS, o < ocp (acc rows
    ocp apart; rows past tn are computed from whatever the patch holds there and are not the caller's).

    Channel blocks outer, so a block's weight panel stays in cache while the patch rows stream.
    """
    pairs = kr // 2
    rows = -(-tn // ROWS) * ROWS
    if kr % 2 != 0 or rows * kr > patch.shape[0] or ocp * kr > wp.shape[0] or rows * ocp > acc.shape[0] \
            or ocp > bias.shape[0] or ocp % 8 != 0:  # fmt: skip
        raise ValueError("madd_block: block outside its arrays")
    blocks = ocp // 8
    panel = pairs * 16  # int16 per 8-channel block of packed weights
    for ob in range(0, blocks - 1, 2):
        for t in range(0, rows, ROWS):
            _tile16(patch, wp, bias, acc, t * kr, kr, pairs, ob * panel, panel, t * ocp, ocp, ob * 8)
    if blocks % 2 == 1:
        ob = blocks - 1
        for t in range(0, rows, ROWS):
            _tile8(patch, wp, bias, acc, t * kr, kr, pairs, ob * panel, panel, t * ocp, ocp, ob * 8)


@kernel
def madd_row(x, wp, bias, acc, kr, ocp):
    """`madd_block` for one row (x[:kr]): acc[o] = bias[o] + sum_q x[q] * w[o, q] for o < ocp."""
    if kr % 2 != 0 or kr > x.shape[0] or ocp * kr > wp.shape[0] or ocp > acc.shape[0] or ocp > bias.shape[0] \
            or ocp % 8 != 0:  # fmt: skip
        raise ValueError("madd_row: row outside its arrays")
    pairs = kr // 2
    panel = pairs * 16
    blocks = ocp // 8
    b4 = blocks - blocks % 4
    for ob in range(0, b4, 4):
        _row32(x, wp, bias, acc, 0, kr, pairs, ob * panel, panel, 0, ocp, ob * 8)
    for ob in range(b4, blocks):
        _row8(x, wp, bias, acc, 0, kr, pairs, ob * panel, panel, 0, ocp, ob * 8)


@kernel
def madd_block_out(patch, wp, bias, mult, shift, out, ob, rows, kr, oc, zp_out, lo, hi, mode):
    """`madd_block` then `requantize_row8` in one pass for `rows` (a multiple of ROWS) whole rows and
    oc % 8 == 0 channels, per-channel mult, shift <= 0: out[ob + t*oc + o]. Returns the outputs == zp_out."""
    pairs = kr // 2
    if kr % 2 != 0 or rows % ROWS != 0 or oc % 8 != 0 or rows * kr > patch.shape[0] or oc * kr > wp.shape[0] \
            or ob + rows * oc > out.shape[0] or oc > min(bias.shape[0], mult.shape[0], shift.shape[0]):  # fmt: skip
        raise ValueError("madd_block_out: block outside its arrays")
    blocks = oc // 8
    panel = pairs * 16
    zeros = 0
    for b in range(0, blocks - 1, 2):
        for t in range(0, rows, ROWS):
            zeros += _out16(patch, wp, bias, mult, shift, out, t * kr, kr, pairs, b * panel, panel, ob + t * oc, oc,
                            b * 8, zp_out, lo, hi, mode)  # fmt: skip
    if blocks % 2 == 1:
        b = blocks - 1
        for t in range(0, rows, ROWS):
            zeros += _out8(patch, wp, bias, mult, shift, out, t * kr, kr, pairs, b * panel, panel, ob + t * oc, oc,
                           b * 8, zp_out, lo, hi, mode)  # fmt: skip
    return zeros


@kernel
def conv2d_by_row16(x, wp, bias, mult, shift, out, patch, acc, geometry, zp_in, zp_out, lo, hi, mode, tile, ocp):
    """conv.conv2d_by_row on `madd_block`: an int16 im2col block holding x - zp_in (padded taps 0) times
    the packed weights w - zp_w; mult, shift tiled `tile` times. Returns the outputs equal to zp_out.

    Whole 4-pixel tiles of whole 8-channel blocks requantize in registers (`madd_block_out`); the
    rest (a block's last tn % 4 pixels; every pixel when oc % 8 != 0 or some shift is a left shift)
    goes through int32 accumulators and `requantize_row8`."""
    n, _, _, _, oh, ow, oc, _, _, _, _, _, _, _, _ = geometry
    kr = wp.shape[0] // ocp
    pixels = n * oh * ow
    fused = ocp == oc
    for o in range(oc):
        fused &= shift[o] <= 0
    out_zeros = 0
    for p0 in range(0, pixels, tile):
        tn = min(tile, pixels - p0)
        gather(x, patch, p0, tn, kr, geometry, -zp_in, 0)
        t0 = tn - tn % ROWS if fused else 0
        if t0 > 0:
            out_zeros += madd_block_out(patch, wp, bias, mult, shift, out, p0 * oc, t0, kr, oc, zp_out, lo, hi, mode)
        if t0 == tn:
            continue
        rest = tn - t0
        madd_block(patch[t0 * kr :], wp, bias, acc, rest, kr, ocp)
        if ocp != oc:  # rows ocp apart -> oc apart, in place (forward: never overtakes its source)
            for t in range(1, rest):
                for o in range(oc):
                    acc[t * oc + o] = acc[t * ocp + o]
        out_zeros += requantize_row8(acc[: rest * oc], mult, shift, mode, zp_out, lo, hi, out, (p0 + t0) * oc)
    return out_zeros
