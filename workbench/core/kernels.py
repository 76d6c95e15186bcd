"""Numba kernels: forward, backward, losses, optimizer updates and per-step probes.

Everything here is ``@njit(nogil=True, cache=True)`` and works on flat arrays so that a
single call can run many mini-batch steps (Python never loops over single steps on the
hot path). Named choices arrive as integer codes (see the ``*_CODES`` registries); the
public wrappers in :mod:`workbench.core.network` validate and allocate.

Layout of the flat parameter vector ``theta`` for layer l (1..L), as on the slides:
``W_l`` of shape ``(rows_l, n_{l-1})`` row-major (row j = unit j, column k = unit k of the
layer below), then ``b_l`` of shape ``(rows_l,)``. ``rows_l = units_l`` except for maxout
where ``rows_l = 2 * units_l`` (rows 2j and 2j+1 are the two pieces of unit j).

Activations of a batch of B samples are kept in flat buffers: layer l's pre-activation
``z_l`` is the block ``zbuf[B*zcum[l] : B*zcum[l] + B*rows_l]`` viewed as ``(B, rows_l)``
and its output ``a_l`` the block ``abuf[B*acum[l] : ...]`` viewed as ``(B, units_l)``;
``a_0`` is the input batch.
"""
from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from llvmlite import ir

# --- registries (names -> codes) ----------------------------------------------------
ACT_CODES = {"linear": 0, "step": 1, "sigmoid": 2, "tanh": 3, "relu": 4,
             "leaky_relu": 5, "elu": 6, "maxout": 7, "softmax": 8}
LOSS_CODES = {"mse": 0, "bce": 1, "cross_entropy": 2, "perceptron": 3, "hinge": 4}
OPT_CODES = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3}
# Indices into the hyperparameter vector ``hp`` (float64) read by the training kernel.
HP_LR, HP_MOMENTUM, HP_NESTEROV, HP_DECAY, HP_BETA1, HP_BETA2, HP_RHO, HP_EPS, \
    HP_L1, HP_L2 = range(10)
N_HP = 10
# Indices into the ``counters`` vector (int64) owned by the run.
C_STEP, C_EPOCH, C_POS, C_T = range(4)
# Non-finite flags written per step (bit mask).
NF_LOSS, NF_GRAD, NF_WEIGHTS = 1, 2, 4
# Below this many multiply-adds a hand loop (unsigned indices) beats a BLAS call
# (measured here: 8x8x10 loop 0.43 us vs BLAS 0.38 us + view set-up; 16x16x16 loop 2.1 us,
# BLAS 1.3 us).
_BLAS_MIN = 2048
# The forward product z = a W^T of a BLAS-sized layer is, in BLAS's column-major terms, a
# "TN" product (dot-product form), which OpenBLAS's small-matrix kernels here run at half
# the speed of its "TT" form (64 -> 128 units, batch 32: 19 us against 11 us). From
# _T_MIN_ROWS units up and while the product stays in the small-matrix range, the batch
# is first copied transposed (B n_in copies against B n_in r multiply-adds) and the
# product taken as TT. Both forms sum over k in the same order: the same bits.
_T_MIN_ROWS = 32
_T_MAX_MACS = 1_000_000
# The hand loops of the forward product (layers under _BLAS_MIN multiply-adds), for a
# batch of at least _WT_MIN_BATCH samples: from _WT_MIN_ROWS units W is first copied
# transposed into scratch, so that the loop over units reads it contiguously; below, the
# samples are the inner loop. Measured here, batch 10: 2 -> 8 units 178 -> 152 ns, 8 -> 8
# 484 -> 320 ns, 8 -> 1 418 -> 235 ns; W1's kernel 7-10 % faster. A batch of one keeps
# the plain loop (the copy would cost as much as the product).
_WT_MIN_ROWS = 4
_WT_MIN_BATCH = 4
# float32: from this many parameters a layer's plain SGD update runs as its own
# vectorised loop with the four norms from BLAS dot products; below it one scalar loop
# does both (the sums are sequential chains; measured crossing near 100: 160 parameters
# 0.18 against 0.36 us, 1,290 parameters 1.4 against 2.4 us, 24 parameters 0.11 against
# 0.06 us). float64 layers of every size take _sgd_vec: one pass, the sums in vector
# lanes (the update of W1's 105 parameters 98 -> 62 ns, W2's 4,353 2.1 -> 0.7 us).
_UPDATE_VEC_MIN = 128
# The three products of a layer run through :func:`_rows_fma` (explicit FMA on SIMD
# vectors, zeros of the left operand skipped) when its rows are at least one vector wide,
# it has at most _T_MAX_MACS multiply-adds and the slice of the right operand one column
# tile reads stays in the L1 cache (_ROWS_L1 bytes); BLAS or the hand loops otherwise.
# Measured here (us, batch 32, float64, this kernel against OpenBLAS): 64 -> 64 with half
# the values zero (ReLU) 2.9-3.5 against 5.5-5.7, dense 3.9-6.1 against 5.5-5.9; batch
# 10, 8 -> 8: 0.09-0.12 against 0.12-0.20 for the hand loops; batch 1, 8 -> 8: 0.01-0.03
# against 0.04-0.05. Rows narrower than a vector lose (2 -> 64, weight gradient: 2.4
# against 1.2), as do products that spill out of L1 (dense 64 -> 128 delta: 18 against
# 11) or of L2 (128 x 256 x 128: 320 against 84).
_ROWS_L1 = 32768
_ROWS_MIN_BATCH = 2
# From this many units, a forward product whose rows are not a whole number of vectors
# takes :func:`_rows_fma` on rows padded to one (see :func:`_affine`).
_PAD_MIN_ROWS = 8
# Layers of this many units or more take the per-step unit statistics in passes along
# the batch's rows; narrower ones scan each unit's column (see _unit_stats).
_STATS_PASS_MIN_UNITS = 16
# From this batch size the weight gradient's rows path first copies delta^T (see
# _weight_grad); W1's batch of 10 ran 6 % slower with the copy.
_WG_T_MIN_BATCH = 16
ADAGRAD_INIT = 0.1  # Keras' initial accumulator value

_MAXOUT = 7
_SOFTMAX = 8
U = np.uint64


@intrinsic
def _borrow(typingctx, arr):
    """A view of ``arr`` without a reference count (null meminfo)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = context.make_array(sig.args[0])(context, builder, value=args[0])
        dst = context.make_array(sig.return_type)(context, builder)
        for name in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(dst, name, getattr(src, name))
        dst.meminfo = cgutils.get_null_value(dst.meminfo.type)
        dst.parent = cgutils.get_null_value(dst.parent.type)
        return dst._getvalue()
    return arr(arr), codegen


@intrinsic
def _fma(typingctx, a, b, c):
    """a * b + c rounded once (``llvm.fma``): exact IEEE arithmetic, the same bits on
    every machine (a library call where the CPU has no FMA). Without ``fastmath`` LLVM
    never fuses a multiply and an add by itself."""
    if not (a == b == c and a in (types.float64, types.float32)):
        return None

    def codegen(context, builder, sig, args):
        t = args[0].type
        name = "llvm.fma.f64" if a == types.float64 else "llvm.fma.f32"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(t, [t, t, t]),
                                            name)
        return builder.call(fn, args)
    return a(a, b, c), codegen


def _vector_types(context, sg, lanes=8):
    """For an intrinsic's codegen over arrays of its first argument's dtype: (argument
    types, element type, LLVM element type, LLVM vector of ``lanes``, alignment)."""
    at = sg.args
    et = at[0].dtype
    ft = context.get_value_type(et)
    return at, et, ft, ir.VectorType(ft, lanes), (8 if et == types.float64 else 4)


def _data(context, builder, ty, val):
    """The data pointer of an array argument of an intrinsic."""
    return context.make_array(ty)(context, builder, value=val).data


def _splat(builder, vt, x):
    """The scalar ``x`` in every lane of a vector of type ``vt``."""
    b = builder.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(b, ir.Constant(vt, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), vt.count),
                                              [0] * vt.count))


def _fma_tile(nvec, zero=False, split=1):
    """An intrinsic ``tile(out, oo, M, mo, ms, s, so, sc, idx, io, nz)`` that adds to
    the ``nvec`` SIMD vectors at ``out[oo:]`` (8 float64 or 16 float32 each), for q in
    0 .. nz-1 in order with k = idx[io + q]: s[so + k sc] * M[mo + k ms :], by
    ``llvm.fma`` on whole vectors; ``zero``: into sums that start at +0.0 instead of
    the values there (a gradient: no pass zeroing it first, no loads). The accumulators
    stay in registers across q, which Numba's loops cannot express (each step of a loop
    over the row would load and store them) and which its vectoriser, without
    ``fastmath``, does not do for a sum.

    ``split`` > 1: q runs in ``split`` interleaved partial sums (q mod split), the first
    from ``out`` (or +0.0), the others from +0.0, added pairwise at the end. A tile of one
    or two vectors otherwise waits on the FMA's latency (each sum a chain of dependent
    FMAs); with four chains the FMA units stay busy. A different order of the same terms:
    different last bits from ``split=1``."""
    @intrinsic
    def tile(typingctx, out, oo, M, mo, ms, s, so, sc, idx, io, nz):
        if not (isinstance(out, types.Array) and out.dtype in (types.float64, types.float32)
                and M.dtype == out.dtype and s.dtype == out.dtype):
            return None
        dt = out.dtype
        sig = types.void(out, oo, M, mo, ms, s, so, sc, idx, io, nz)

        def codegen(context, builder, sg, args):
            out_v, oo_v, M_v, mo_v, ms_v, s_v, so_v, sc_v, idx_v, io_v, nz_v = args
            at = sg.args
            i64 = ir.IntType(64)
            ft = context.get_value_type(dt)
            lanes = 8 if dt == types.float64 else 16
            align = 8 if dt == types.float64 else 4
            vt = ir.VectorType(ft, lanes)

            def ptr(k, v):
                return context.make_array(at[k])(context, builder, value=v).data

            def int64(k, v):
                return context.cast(builder, v, at[k], types.int64)

            outp, Mp, sp, ip = ptr(0, out_v), ptr(2, M_v), ptr(5, s_v), ptr(8, idx_v)
            oo_i, mo_i, ms_i = int64(1, oo_v), int64(3, mo_v), int64(4, ms_v)
            so_i, sc_i, io_i, nz_i = int64(6, so_v), int64(7, sc_v), int64(9, io_v), \
                int64(10, nz_v)
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vt, [vt, vt, vt]),
                f"llvm.fma.v{lanes}f{64 if dt == types.float64 else 32}")
            ob = builder.gep(outp, [oo_i])

            def vptr(base, t):
                return builder.bitcast(builder.gep(base, [ir.Constant(i64, t * lanes)]),
                                       vt.as_pointer())
            zeros = ir.Constant(vt, [0.0] * lanes)
            sets = []
            for p in range(split):
                accs = []
                for t in range(nvec):
                    acc = cgutils.alloca_once(builder, vt)
                    builder.store(zeros if zero or p else
                                  builder.load(vptr(ob, t), align=align), acc)
                    accs.append(acc)
                sets.append(accs)

            def step(q, accs):
                k = builder.load(builder.gep(ip, [builder.add(io_i, q)]))
                k = builder.sext(k, i64) if k.type.width < 64 else k
                v = builder.load(builder.gep(sp, [builder.add(so_i, builder.mul(k, sc_i))]))
                bv = _splat(builder, vt, v)
                row = builder.gep(Mp, [builder.add(mo_i, builder.mul(k, ms_i))])
                for t in range(nvec):
                    x = builder.load(vptr(row, t), align=align)
                    builder.store(builder.call(fn, [bv, x, builder.load(accs[t])]), accs[t])
            sp_c = ir.Constant(i64, split)
            full = builder.udiv(nz_i, sp_c)
            with cgutils.for_range(builder, full) as loop:
                for p in range(split):
                    step(builder.add(builder.mul(loop.index, sp_c), ir.Constant(i64, p)),
                         sets[p])
            rest = builder.sub(nz_i, builder.mul(full, sp_c))
            with cgutils.for_range(builder, rest) as loop:
                step(builder.add(builder.mul(full, sp_c), loop.index), sets[0])
            for t in range(nvec):
                vals = [builder.load(sets[p][t]) for p in range(split)]
                while len(vals) > 1:
                    vals = [builder.fadd(vals[i], vals[i + 1]) for i in range(0, len(vals), 2)]
                builder.store(vals[0], vptr(ob, t), align=align)
            return context.get_dummy_value()
        return sig, codegen
    return tile


_tile8, _tile4, _tile2, _tile1 = _fma_tile(8), _fma_tile(4), _fma_tile(2), _fma_tile(1)
_tile8z, _tile4z, _tile2z, _tile1z = (_fma_tile(8, True), _fma_tile(4, True),
                                      _fma_tile(2, True), _fma_tile(1, True))
_tile2s4, _tile1s4 = _fma_tile(2, split=4), _fma_tile(1, split=4)


@intrinsic
def _t8x8(typingctx, src, so, ss, dst, do, ds):
    """dst[do + c ds + i] = src[so + i ss + c] for i, c < 8: an 8 x 8 block transposed in
    registers (eight vector loads, three rounds of eight shuffles, eight vector stores).
    The element loop it replaces (W^T for :func:`_rows_fma`) read one value a cycle at
    best: 2.2 us of W3's 9 us forward pass."""
    if not (isinstance(src, types.Array) and src.dtype in (types.float64, types.float32)
            and isinstance(dst, types.Array) and dst.dtype == src.dtype):
        return None
    sig = types.void(src, so, ss, dst, do, ds)

    def codegen(context, builder, sg, args):
        at, _, _, vt, align = _vector_types(context, sg)
        i64 = ir.IntType(64)

        def int64(k):
            return context.cast(builder, args[k], at[k], types.int64)
        sp, dp = _data(context, builder, at[0], args[0]), _data(context, builder, at[3], args[3])
        so_i, ss_i, do_i, ds_i = int64(1), int64(2), int64(4), int64(5)

        def vp(base, off, stride, i):
            g = builder.gep(base, [builder.add(off, builder.mul(stride, ir.Constant(i64, i)))])
            return builder.bitcast(g, vt.as_pointer())

        def shuf(a, b, mask):
            return builder.shuffle_vector(a, b, ir.Constant(ir.VectorType(ir.IntType(32), 8),
                                                            mask))
        r = [builder.load(vp(sp, so_i, ss_i, i), align=align) for i in range(8)]
        lo, hi = [0, 8, 2, 10, 4, 12, 6, 14], [1, 9, 3, 11, 5, 13, 7, 15]
        t = []
        for i in range(0, 8, 2):
            t += [shuf(r[i], r[i + 1], lo), shuf(r[i], r[i + 1], hi)]
        # t0 t1 from rows 0-1, t2 t3 from rows 2-3, ...: pairs of pairs
        a2, b2 = [0, 1, 8, 9, 4, 5, 12, 13], [2, 3, 10, 11, 6, 7, 14, 15]
        u = [None] * 8
        for base in (0, 4):
            u[base + 0] = shuf(t[base], t[base + 2], a2)
            u[base + 2] = shuf(t[base], t[base + 2], b2)
            u[base + 1] = shuf(t[base + 1], t[base + 3], a2)
            u[base + 3] = shuf(t[base + 1], t[base + 3], b2)
        a4, b4 = [0, 1, 2, 3, 8, 9, 10, 11], [4, 5, 6, 7, 12, 13, 14, 15]
        for c in range(4):
            builder.store(shuf(u[c], u[c + 4], a4), vp(dp, do_i, ds_i, c), align=align)
            builder.store(shuf(u[c], u[c + 4], b4), vp(dp, do_i, ds_i, c + 4), align=align)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _sgd_vec(typingctx, theta, grad, vel, start, nvec, lr, mom):
    """Plain SGD with momentum on ``nvec`` vectors of 8 float64 parameters from
    ``start``: v = mom v - lr g (a multiply, a multiply, a subtraction: the bits of the
    scalar loop), w += v; returns the sums of g^2, v^2, w^2 before and w^2 after, each
    over 8 lanes (fused multiply-adds) added pairwise at the end. Numba's
    loop could not be vectorised for the sums without ``fastmath``: one scalar chain per
    sum, 4 cycles a parameter."""
    if not (isinstance(theta, types.Array) and theta.dtype in (types.float64, types.float32)
            and grad.dtype == theta.dtype and vel.dtype == theta.dtype):
        return None     # (float32 types too, for the caller's other branch; only float64
        #                 is ever passed a nonzero nvec)
    ret = types.UniTuple(types.float64, 4)
    sig = ret(theta, grad, vel, start, nvec, lr, mom)

    def codegen(context, builder, sg, args):
        th_v, g_v, v_v, st_v, nv_v, lr_v, mom_v = args
        at, et, dt, vt, align = _vector_types(context, sg)
        i64 = ir.IntType(64)
        tp, gp, vp = (_data(context, builder, at[k], v) for k, v in enumerate(args[:3]))
        st = context.cast(builder, st_v, at[3], types.int64)
        nv = context.cast(builder, nv_v, at[4], types.int64)
        lr_f = context.cast(builder, lr_v, at[5], et)
        mom_f = context.cast(builder, mom_v, at[6], et)

        lr_b, mom_b = _splat(builder, vt, lr_f), _splat(builder, vt, mom_f)
        fma = cgutils.get_or_insert_function(builder.module,
                                             ir.FunctionType(vt, [vt, vt, vt]),
                                             "llvm.fma.v8f64" if et == types.float64
                                             else "llvm.fma.v8f32")
        accs = []
        for _ in range(4):
            a = cgutils.alloca_once(builder, vt)
            builder.store(ir.Constant(vt, [0.0] * 8), a)
            accs.append(a)
        with cgutils.for_range(builder, nv) as loop:
            off = builder.add(st, builder.mul(loop.index, ir.Constant(i64, 8)))

            def vptr(p):
                return builder.bitcast(builder.gep(p, [off]), vt.as_pointer())
            g = builder.load(vptr(gp), align=align)
            w = builder.load(vptr(tp), align=align)
            v = builder.load(vptr(vp), align=align)
            v2 = builder.fsub(builder.fmul(mom_b, v), builder.fmul(lr_b, g))
            builder.store(v2, vptr(vp), align=align)
            wn = builder.fadd(w, v2)
            builder.store(wn, vptr(tp), align=align)
            for a, x in zip(accs, (g, v2, w, wn)):
                builder.store(builder.call(fma, [x, x, builder.load(a)]), a)
        out = []
        for a in accs:
            acc = builder.load(a)
            # lanes added pairwise (0+4, 1+5, ...; then 0+2, 1+3; then 0+1): three adds
            # deep instead of eight, which W5's update waited on three times a step
            e = [builder.extract_element(acc, ir.Constant(ir.IntType(32), lane))
                 for lane in range(8)]
            e = [builder.fadd(e[i], e[i + 4]) for i in range(4)]
            e = [builder.fadd(e[i], e[i + 2]) for i in range(2)]
            tot = builder.fadd(e[0], e[1])
            out.append(tot if et == types.float64 else builder.fpext(tot, ir.DoubleType()))
        return context.make_tuple(builder, sg.return_type, out)
    return sig, codegen


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _tile(w, zero, out, oo, M, mo, ms, s, so, sc, idx, io, nz):
    """The tile of ``w`` vectors (8, 4, 2 or 1) of :func:`_fma_tile`, from +0.0 if
    ``zero``."""
    if w == U(8):
        if zero:
            _tile8z(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
        else:
            _tile8(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
    elif w == U(4):
        if zero:
            _tile4z(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
        else:
            _tile4(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
    elif w == U(2):
        if zero:
            _tile2z(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
        else:
            _tile2(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
    elif zero:
        _tile1z(out, oo, M, mo, ms, s, so, sc, idx, io, nz)
    else:
        _tile1(out, oo, M, mo, ms, s, so, sc, idx, io, nz)


@intrinsic
def _compress8(typingctx, s, so, k0, idx, io):
    """Of the 8 values s[so : so + 8], the positions k0 + c of those != 0 (NaN included)
    into idx[io : io + count], in order; returns the count. The positions are packed in
    a register (``llvm.experimental.vector.compress``: AVX-512's vpcompressq, or a
    scalar expansion on other CPUs) and stored as a whole vector: idx[io + count :
    io + 8] is overwritten with junk, so idx must have room for 8 from io (the caller's
    row does: io <= its start + k0). Storing through ``llvm.masked.compressstore``
    instead was 1.6 times slower here."""
    if not (isinstance(s, types.Array) and s.dtype in (types.float64, types.float32)
            and isinstance(idx, types.Array) and idx.dtype == types.int64):
        return None
    sig = types.uint64(s, so, k0, idx, io)

    def codegen(context, builder, sg, args):
        at, _, _, vt, align = _vector_types(context, sg)
        i64 = ir.IntType(64)
        it = ir.VectorType(i64, 8)
        mt = ir.VectorType(ir.IntType(1), 8)
        sp, ip = _data(context, builder, at[0], args[0]), _data(context, builder, at[3], args[3])
        so_i, k0_i, io_i = (context.cast(builder, args[k], at[k], types.int64)
                            for k in (1, 2, 4))
        v = builder.load(builder.bitcast(builder.gep(sp, [so_i]), vt.as_pointer()),
                         align=align)
        m = builder.fcmp_unordered("!=", v, ir.Constant(vt, [0.0] * 8))
        ks = builder.add(_splat(builder, it, k0_i), ir.Constant(it, list(range(8))))
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(it, [it, mt, it]),
            "llvm.experimental.vector.compress.v8i64")
        packed = builder.call(fn, [ks, m, ir.Constant(it, ir.Undefined)])
        builder.store(packed, builder.bitcast(builder.gep(ip, [io_i]), it.as_pointer()),
                      align=8)
        bits = builder.bitcast(m, ir.IntType(8))
        pc = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(8), [ir.IntType(8)]), "llvm.ctpop.i8")
        return builder.zext(builder.call(pc, [bits]), i64)
    return sig, codegen


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _compact(s, so, s_rs, s_cs, uR, uK, idx):
    """For i < uR: the k < uK with s[so + i s_rs + k s_cs] != 0, in order, into
    idx[i uK:], and their count into idx[uR uK + i]. Rows of contiguous values go 8 at
    a time (:func:`_compress8`), the rest one at a time, branch-free. (One at a time,
    W3's 32 x 128 took 1.0 us, a cycle a value; 8 at a time 0.32 us.)"""
    cnt = uR * uK
    k8 = uK - uK % U(8) if s_cs == 1 else U(0)
    for i in range(uR):
        si = U(so) + i * U(s_rs)
        base = i * uK
        nz = U(0)
        for k in range(U(0), k8, U(8)):
            nz += _compress8(s, si + k, k, idx, base + nz)
        for k in range(k8, uK):
            idx[base + nz] = k
            nz += U(1) if s[si + k * U(s_cs)] != 0.0 else U(0)
        idx[cnt + i] = nz


@njit(nogil=True, cache=True, error_model="numpy")
def _rows_fma(out, oo, R, N, s, so, s_rs, s_cs, K, M, mo, ms, idx, zero):
    """out[i, j] += sum over k < K in order, skipping s[i, k] == 0, of s[i, k] M[k, j]
    (fma) for i < R, j < N: out rows of N at ``oo``, s[i, k] at so + i s_rs + k s_cs,
    M[k, j] at mo + k ms + j; ``zero``: the sums start from +0.0, not from ``out``,
    which is then only written. ``idx`` (int64, R K + R values) takes the nonzero k of
    every row, then their counts. Columns go in tiles of 64 (float64) across all rows,
    so that a tile's slice of M stays in the L1 cache. (Not inlined: inlined at its
    four call sites in every kernel it doubled the cold compile, 23 -> 47 s, and ran no
    faster; its callers pass borrowed arrays, so the call costs no reference counts.)"""
    uR, uN, uK = U(R), U(N), U(K)
    cnt = uR * uK
    _compact(s, so, s_rs, s_cs, uR, uK, idx)
    lanes = U(_lanes(out.itemsize))
    # column tiles of 8 vectors while they fit, then at most one of 4, 2 and 1
    j = U(0)
    w = U(8)
    while w > U(0):
        while j + w * lanes <= uN:
            for i in range(uR):
                _tile(w, zero, out, U(oo) + i * uN + j, M, U(mo) + j, U(ms), s,
                      U(so) + i * U(s_rs), U(s_cs), idx, i * uK, idx[cnt + i])
            j += w * lanes
        w //= U(2)
    if j < uN:
        for i in range(uR):
            oi = U(oo) + i * uN
            si = U(so) + i * U(s_rs)
            base = i * uK
            for jj in range(j, uN):
                if zero:
                    out[oi + jj] = 0.0
                c = out[oi + jj]
                for q in range(U(idx[cnt + i])):
                    k = U(idx[base + q])
                    c = _fma(s[si + k * U(s_cs)], M[U(mo) + k * U(ms) + jj], c)
                out[oi + jj] = c


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _lanes(itemsize):
    """Values in one SIMD vector of :func:`_fma_tile`."""
    return 16 if itemsize == 4 else 8


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _use_rows(B, R, N, K, itemsize, ibuf):
    """Whether an R x N result summed over K, for a batch of B, runs through
    :func:`_rows_fma` (see ``_ROWS_L1``, ``_ROWS_MIN_BATCH``): rows a whole number of
    vectors wide. The scalar tail of other widths costs more than its share (batch 32,
    128 -> 10 forward: 5.0 us against BLAS's 2.9; padding the rows to 16 and copying
    out, 3.5)."""
    lanes = _lanes(itemsize)
    return (B >= _ROWS_MIN_BATCH and N >= lanes and N % lanes == 0 and R * N * K <= _T_MAX_MACS
            and K * min(N, 8 * lanes) * itemsize <= _ROWS_L1
            and ibuf.shape[0] >= R * K + R)


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _pad_width(B, r, n_in, itemsize, ibuf):
    """The padded width (16 or 32 values) when the forward map of ``r`` units takes
    :func:`_affine_padded`: one or two vectors' worth of units, not a whole number, from
    ``_PAD_MIN_ROWS``, within the rows path's limits; else 0."""
    lanes = _lanes(itemsize)
    npad = (r + lanes - 1) // lanes * lanes
    if (r >= _PAD_MIN_ROWS and r % lanes != 0 and npad <= 2 * lanes
            and _use_rows(B, B, npad, n_in, itemsize, ibuf)):
        return npad
    return 0


def dbuf_size(B, zcum, units, rows):
    """The float scratch ``dbuf`` of :func:`train_chunk`: every layer's deltas, a block of
    da, and room for the padded W^T of :func:`_affine` during the forward pass (and
    :func:`_affine_padded`'s block of B x 32 values at most)."""
    um = int(np.max(units))
    return max(B * (int(zcum[-1]) + um), um * (int(np.max(rows)) + 16) + 32 * B)


def ibuf_size(B, units, rows):
    """The int64 scratch the kernels' products need for a batch of B (see _rows_fma)."""
    m = max(int(np.max(units)), int(np.max(rows)))
    return B * m + max(B, m)


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _tbuf_len(B, units, rows):
    """Scratch for :func:`_affine`: a transposed batch, or a padded W^T (and
    :func:`_affine_padded`'s block of B x 32 values at most)."""
    return max(B * units.max(), units.max() * (rows.max() + 16) + 32 * B)


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _ibuf_len(B, units, rows):
    m = max(units.max(), rows.max())
    return B * m + max(B, m)


# --- small helpers -------------------------------------------------------------------
@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _sigmoid(z):
    """1 / (1 + exp(-z)) from e = exp(-|z|) <= 1 (e / (1 + e) below 0), which cannot
    overflow; branch-free through :func:`_exp_le0`, so a loop of them vectorises (W1's
    batch of ten outputs: libm's exp was 8 % of its step)."""
    e = _exp_le0(-abs(z))
    s = (1.0 if z >= 0.0 else e) / (1.0 + e)
    return s if z == z else z


@intrinsic
def _bits(typingctx, x):
    """The bits of a float64 as an int64."""
    if x != types.float64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):
    """The float64 with these bits."""
    if i != types.int64:
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


_MAGIC = 6755399441055744.0  # 1.5 * 2**52: x + _MAGIC rounds x to an integer
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93145751953125e-1  # ln 2 split so that k * _LN2_HI is exact for |k| < 2**11
_LN2_LO = 1.42860682030941723212e-6
# Cephes exp on |r| <= ln2 / 2: exp(r) = (Q(r^2) + r P(r^2)) / (Q(r^2) - r P(r^2))
_EP0, _EP1, _EP2 = 1.26177193074810590878e-4, 3.02994407707441961300e-2, \
    9.99999999999999999910e-1
_EQ0, _EQ1, _EQ2, _EQ3 = 3.00198505138664455042e-6, 2.52448340349684104192e-3, \
    2.27265548208155028766e-1, 2.00000000000000000009e0
# Cephes tanh on |x| <= 0.625: x + x^3 P(x^2) / Q(x^2)
_TP0, _TP1, _TP2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, \
    -1.61468768441708447952e3
_TQ0, _TQ1, _TQ2 = 1.12811678491632931402e2, 2.23548839060100448583e3, \
    4.84406305325125486048e3


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _exp_parts(y):
    """Cephes' exp split for y <= 0: returns (t, P, Q) with exp(y) = 2^k (Q + P) / (Q - P),
    k = round(y / ln 2) held in the low bits of t (see _MAGIC), P = r p(r^2), Q = q(r^2)
    for the remainder r = y - k ln 2."""
    t = y * _LOG2E + _MAGIC
    kf = t - _MAGIC
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    pr = r * ((_EP0 * rr + _EP1) * rr + _EP2)
    qr = ((_EQ0 * rr + _EQ1) * rr + _EQ2) * rr + _EQ3
    return t, pr, qr


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _tanh(x):
    """tanh within 3 ulp of libm (measured on 420,000 points), branch-free, vectorisable.

    |x| > 0.625: (1 - e) / (1 + e) with e = exp(-2|x|) = 2^k N / D (Cephes' exp: k =
    round(-2|x| / ln 2), N, D rational in the remainder r), so tanh = (D - 2^k N) /
    (D + 2^k N); e below 5e-18 is 1.0 in the result, so the argument is capped at 40.
    |x| <= 0.625: Cephes' x + x^3 P / Q, which keeps the relative accuracy near 0 that
    1 - e loses. One division serves both. A loop of libm tanh calls took 27 ns an
    element here, one libm exp and a division 8 ns, this 2.5-3 ns.
    """
    x = float(x)
    ax = abs(x)
    u = 2.0 * ax
    u = u if u < 40.0 else 40.0
    t, pr, qr = _exp_parts(-u)
    en = _from_bits((_bits(t) - _bits(_MAGIC) + 1023) << 52) * (qr + pr)
    ed = qr - pr
    s = x * x
    small = ax <= 0.625
    num = x * s * ((_TP0 * s + _TP1) * s + _TP2) if small else ed - en
    den = ((s + _TQ0) * s + _TQ1) * s + _TQ2 if small else ed + en
    q = num / den
    res = x + q if small else (q if x >= 0.0 else -q)
    return res if ax > 0.0 else x  # keeps -0.0 and NaN


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _exp_le0(x):
    """exp(x) for x <= 0 (softmax's exp(z - max)), within 2 ulp of libm in the normal
    range and to the last denormal below it, branch-free so that a loop of them
    vectorises (1.5 ns an element against 6.6 ns for libm here). Cephes' exp:
    2^k (1 + 2 r P / (Q - r P)); 2^k is applied in two halves so that k down to -1075
    needs no special case."""
    t, pr, qr = _exp_parts(x if x > -745.2 else -745.2)
    er = 1.0 + 2.0 * pr / (qr - pr)
    k = _bits(t) - _bits(_MAGIC)
    k1 = k >> 1
    res = er * _from_bits((k1 + 1023) << 52) * _from_bits((k - k1 + 1023) << 52)
    return res if x == x else x


# Cephes log on 1 + x, x in [sqrt(1/2) - 1, sqrt(2) - 1]: x - x^2/2 + x^3 P(x) / Q(x)
_LP0, _LP1, _LP2, _LP3, _LP4, _LP5 = 1.01875663804580931796e-4, 4.97494994976747001425e-1, \
    4.70579119878881725854e0, 1.44989225341610930846e1, 1.79368678507819816313e1, \
    7.70838733755885391666e0
_LQ0, _LQ1, _LQ2, _LQ3, _LQ4 = 1.12873587189167450590e1, 4.52279145837532221105e1, \
    8.29875266912776603211e1, 7.11544750618563894466e1, 2.31251620126765340583e1
_LN2_C1, _LN2_C2 = 0.693359375, 2.121944400546905827679e-4  # ln 2 = C1 - C2
_SQRT2_M1 = 0.41421356237309504880


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _log1p01(e):
    """log(1 + e) for 0 <= e <= 1 within 1 ulp of libm, branch-free (Cephes' log: above
    sqrt(2) - 1 as ln 2 + log(1 + (e - 1) / 2), where e - 1 is exact)."""
    hi = e > _SQRT2_M1
    x = 0.5 * (e - 1.0) if hi else e
    k = 1.0 if hi else 0.0
    z = x * x
    p = ((((_LP0 * x + _LP1) * x + _LP2) * x + _LP3) * x + _LP4) * x + _LP5
    q = ((((x + _LQ0) * x + _LQ1) * x + _LQ2) * x + _LQ3) * x + _LQ4
    y = x * (z * p / q) - k * _LN2_C2
    y = y - 0.5 * z
    return (x + y) + k * _LN2_C1


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _log1pexp(z):
    """log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)) without overflow, within 2 ulp of
    NumPy's logaddexp(0, z), branch-free so that a loop of them vectorises (5 ns an
    element against 21 ns for libm's log1p and exp here)."""
    r = (z if z > 0.0 else 0.0) + _log1p01(_exp_le0(-abs(z)))
    return r if z == z else z


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _splitmix64(state):
    """splitmix64: return (the advanced state, the next 64-bit value)."""
    state += np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(nogil=True, cache=True, error_model="numpy")
def shuffle_inplace(perm, rng):
    """Fisher-Yates shuffle of ``perm`` driven by the splitmix64 state ``rng[0]``."""
    n = perm.shape[0]
    state = rng[0]
    for i in range(n - 1, 0, -1):
        state, z = _splitmix64(state)
        j = np.int64(z >> np.uint64(11)) % (i + 1)
        tmp = perm[i]
        perm[i] = perm[j]
        perm[j] = tmp
    rng[0] = state


# --- flat-buffer building blocks ---------------------------------------------------------
# Arrays are addressed as flat vectors with offsets: creating a reshaped view costs about
# 100 ns in Numba, more than the arithmetic of a tiny layer, so views are made only on the
# BLAS path (large layers), where that cost is noise.
@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _copy_wt(theta, uwo, ur, un, tbuf, ums, uto):
    """tbuf[uto + k ums + j] = W[j, k] for W (ur x un) at theta[uwo:]: 8 x 8 blocks transposed
    in registers (:func:`_t8x8`), 8 rows of W at a time (they stay cached while their
    columns are read), then the last un % 8 columns of those rows and the last ur % 8
    rows one value at a time."""
    ur8, un8 = ur - ur % U(8), un - un % U(8)
    for j0 in range(U(0), ur8, U(8)):
        for k0 in range(U(0), un8, U(8)):
            _t8x8(theta, uwo + j0 * un + k0, un, tbuf, uto + k0 * ums + j0, ums)
        for k in range(un8, un):
            for j in range(j0, j0 + U(8)):
                tbuf[uto + k * ums + j] = theta[uwo + j * un + k]
    for j in range(ur8, ur):
        for k in range(un):
            tbuf[uto + k * ums + j] = theta[uwo + j * un + k]


@njit(nogil=True, cache=True, error_model="numpy")
def _transpose(src, so, R, C, dst, do):
    """dst[do + c R + i] = src[so + i C + c] for an R x C block (:func:`_copy_wt`; not
    inlined, to keep the kernels' cold compile down)."""
    _copy_wt(src, U(so), U(R), U(C), dst, U(R), U(do))


@njit(nogil=True, cache=True, error_model="numpy")
def _affine_wt(theta, uwo, ur, un, src, uso, dst, udo, uB, ubo, tbuf):
    """The hand loop of :func:`_affine` through W^T (n_in x r in ``tbuf``): the inner
    loop over units then reads the weights contiguously and vectorises; in W's own layout
    it strides by n_in. The sums run in the same order: the same bits. (Not inlined: as
    part of every caller it made the batch-of-one kernel 5 % slower.)"""
    _copy_wt(theta, uwo, ur, un, tbuf, ur, U(0))
    for i in range(uB):
        ai = uso + i * un
        zi = udo + i * ur
        for j in range(ur):
            dst[zi + j] = theta[ubo + j]
        for k in range(un):
            x = src[ai + k]
            wk = k * ur
            for j in range(ur):
                dst[zi + j] += x * tbuf[wk + j]


@njit(nogil=True, cache=True, error_model="numpy")
def _affine_padded(theta, wo, r, n_in, src, so, dst, do, B, tbuf, ibuf, npad):
    """The forward map of a layer one or two vectors' worth of units wide but not a whole
    number of vectors (W3's 128 -> 10; see :func:`_affine`): W^T padded with zero columns
    to ``npad`` in ``tbuf``, the products into a B x npad block after it (each row's sum
    in four interleaved parts: see :func:`_fma_tile`'s ``split``), then the r columns
    out. W3: 3.0 us by BLAS, 2.1 us here. (Not inlined, like :func:`_rows_fma`: at every
    call site of _affine it added a third to the cold compile.)"""
    lanes = _lanes(dst.itemsize)
    bo = wo + r * n_in
    uB, ur, un, upad, uwo, ubo, udo = U(B), U(r), U(n_in), U(npad), U(wo), U(bo), U(do)
    _copy_wt(theta, uwo, ur, un, tbuf, upad, U(0))
    for k in range(un):
        for j in range(ur, upad):
            tbuf[k * upad + j] = 0.0
    po = un * upad
    for i in range(uB):
        for j in range(ur):
            tbuf[po + i * upad + j] = theta[ubo + j]
        for j in range(ur, upad):
            tbuf[po + i * upad + j] = 0.0
    _compact(src, so, n_in, 1, uB, un, ibuf)
    cnt = uB * un
    for i in range(uB):
        if npad == lanes:
            _tile1s4(tbuf, po + i * upad, tbuf, U(0), upad, src, U(so) + i * un, U(1),
                     ibuf, i * un, ibuf[cnt + i])
        else:
            _tile2s4(tbuf, po + i * upad, tbuf, U(0), upad, src, U(so) + i * un, U(1),
                     ibuf, i * un, ibuf[cnt + i])
    for i in range(uB):
        for j in range(ur):
            dst[udo + i * ur + j] = tbuf[po + i * upad + j]


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _affine(theta, wo, r, n_in, src, so, dst, do, B, tbuf, ibuf):
    """z = a W^T + b for a batch: dst[i, j] = b[j] + sum_k src[i, k] W[j, k].

    ``tbuf``: scratch of at least B n_in values for the transposed batch (see
    ``_T_MIN_ROWS``), or an empty array; a hand-loop layer uses it for W^T when it holds
    r n_in values (see ``_WT_MIN_ROWS``), and so does :func:`_rows_fma` (rows padded
    off multiples of 1 KiB, which map onto the same cache sets). It must not overlap
    ``src`` or ``dst``. ``ibuf``: int64 scratch for :func:`_rows_fma`, or empty.
    """
    bo = wo + r * n_in
    if _use_rows(B, B, r, n_in, dst.itemsize, ibuf):
        ms = r + (_lanes(dst.itemsize) if (r * dst.itemsize) % 1024 == 0 else 0)
        if tbuf.shape[0] >= n_in * ms:
            uB, ur, un, ums, uwo, ubo, udo = U(B), U(r), U(n_in), U(ms), U(wo), U(bo), U(do)
            _copy_wt(theta, uwo, ur, un, tbuf, ums, U(0))  # (128 x 64: 2.2 -> 0.6 us)
            for i in range(uB):
                for j in range(ur):
                    dst[udo + i * ur + j] = theta[ubo + j]
            _rows_fma(dst, do, B, r, src, so, n_in, 1, n_in, tbuf, 0, ms, ibuf, False)
            return
    npad = _pad_width(B, r, n_in, dst.itemsize, ibuf)
    if npad and tbuf.shape[0] >= (n_in + B) * npad:
        _affine_padded(theta, wo, r, n_in, src, so, dst, do, B, tbuf, ibuf, npad)
        return
    if B * n_in * r >= _BLAS_MIN:
        W = theta[wo:bo].reshape((r, n_in))
        Z = dst[do:do + B * r].reshape((B, r))
        if r >= _T_MIN_ROWS and B * n_in * r <= _T_MAX_MACS and tbuf.shape[0] >= B * n_in:
            uB, un, uso = U(B), U(n_in), U(so)
            for k in range(un):
                for i in range(uB):
                    tbuf[k * uB + i] = src[uso + i * un + k]
            T = tbuf[:B * n_in].reshape((n_in, B))
            np.dot(T.T, W.T, Z)
        else:
            A = src[so:so + B * n_in].reshape((B, n_in))
            np.dot(A, W.T, Z)
        for i in range(B):
            zi = do + i * r
            for j in range(r):
                dst[zi + j] += theta[bo + j]
        return
    # Unsigned indices: Numba then skips the negative-index wraparound test on every
    # access (measured 1.5-2x on these loops).
    # Loop order i, k, j: every z[i, j] is still summed b, then k = 0, 1, ... (the same
    # bits as a dot product per unit), but the units j are independent chains, so the
    # adds overlap instead of waiting on each other (a sum over k is latency-bound).
    uB, ur, un, ubo = U(B), U(r), U(n_in), U(bo)
    uso, udo, uwo = U(so), U(do), U(wo)
    if B >= _WT_MIN_BATCH and r >= _WT_MIN_ROWS and tbuf.shape[0] >= r * n_in:
        _affine_wt(theta, uwo, ur, un, src, uso, dst, udo, uB, ubo, tbuf)
        return
    if r < _WT_MIN_ROWS and B >= _WT_MIN_BATCH:
        # one unit or a few (an output layer): samples in the inner loop, so that the
        # adds into z[i, j] are independent instead of one chain per sample through
        # memory (store, reload, add: about 10 cycles each); the same order of terms
        for i in range(uB):
            zi = udo + i * ur
            for j in range(ur):
                dst[zi + j] = theta[ubo + j]
        for j in range(ur):
            wj = uwo + j * un
            for k in range(un):
                w = theta[wj + k]
                for i in range(uB):
                    dst[udo + i * ur + j] += src[uso + i * un + k] * w
        return
    # a batch of fewer than _WT_MIN_BATCH (W5's batch of one): a dot product per unit
    # along W's rows, the sum in a register (the same terms in the same order as above;
    # the loop over units reading W with a stride of n_in kept each sum in memory)
    for i in range(uB):
        ai = uso + i * un
        zi = udo + i * ur
        for j in range(ur):
            acc = theta[ubo + j]
            wj = uwo + j * un
            for k in range(un):
                acc += src[ai + k] * theta[wj + k]
            dst[zi + j] = acc


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _weight_grad(grad, wo, r, n_in, d, do, a, ao, B, ibuf, sbuf, so, slen):
    """dW = delta^T a (summed over the batch): grad[j, k] = sum_i d[i, j] a[i, k].

    ``sbuf[so : so + slen]``: float scratch (``_backward`` passes z's block, read no
    more): for delta^T on the rows path (batches of ``_WG_T_MIN_BATCH`` or more), and
    for a layer with fewer inputs than a SIMD
    vector and at least a vector of units (2 -> 8 of W1, 2 -> 64 of W2): there dW^T =
    a^T delta, whose rows are wide, runs through :func:`_rows_fma` and is transposed
    into ``grad`` (the same sums in the same order). Measured here: batch 10, 2 -> 8,
    124 -> 38 ns; batch 32, 2 -> 64, 1.1 us (BLAS) -> 0.2 us."""
    if _use_rows(B, r, n_in, B, grad.itemsize, ibuf):
        if B >= _WG_T_MIN_BATCH and slen >= B * r:
            # delta^T copied into the scratch first (8 x 8 blocks): its rows, the units'
            # deltas over the batch, are then contiguous, and their nonzeros are found
            # eight at a time (see _compact; W3's 128 x 64: 5.9 -> 5.3 us in the kernel)
            _transpose(d, do, B, r, sbuf, so)
            _rows_fma(grad, wo, r, n_in, sbuf, so, B, 1, B, a, ao, n_in, ibuf, True)
        else:
            _rows_fma(grad, wo, r, n_in, d, do, 1, r, B, a, ao, n_in, ibuf, True)
        return
    if n_in * r <= slen and _use_rows(B, n_in, r, B, grad.itemsize, ibuf):
        uso, ur, un, uwo = U(so), U(r), U(n_in), U(wo)
        _rows_fma(sbuf, so, n_in, r, a, ao, 1, n_in, B, d, do, r, ibuf, True)
        for j in range(ur):
            for k in range(un):
                grad[uwo + j * un + k] = sbuf[uso + k * ur + j]
        return
    if B * n_in * r >= _BLAS_MIN:
        D = d[do:do + B * r].reshape((B, r))
        A = a[ao:ao + B * n_in].reshape((B, n_in))
        G = grad[wo:wo + r * n_in].reshape((r, n_in))
        np.dot(D.T, A, G)
        return
    uB, ur, un, uwo, uao, udo = U(B), U(r), U(n_in), U(wo), U(ao), U(do)
    for q in range(uwo, uwo + ur * un):
        grad[q] = 0.0
    for i in range(uB):
        ai = uao + i * un
        di = udo + i * ur
        for j in range(ur):
            dv = d[di + j]
            if dv != 0.0:
                gj = uwo + j * un
                for k in range(un):
                    grad[gj + k] += dv * a[ai + k]


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _delta_back(theta, wo, r, n_in, d, do, out, oo, B, ibuf):
    """da_{l-1} = delta_l W_l: out[i, k] = sum_j d[i, j] W[j, k]."""
    if _use_rows(B, B, n_in, r, out.itemsize, ibuf):
        _rows_fma(out, oo, B, n_in, d, do, r, 1, r, theta, wo, n_in, ibuf, True)
        return
    if B * n_in * r >= _BLAS_MIN:
        D = d[do:do + B * r].reshape((B, r))
        W = theta[wo:wo + r * n_in].reshape((r, n_in))
        O = out[oo:oo + B * n_in].reshape((B, n_in))
        np.dot(D, W, O)
        return
    uB, ur, un, uwo, uoo, udo = U(B), U(r), U(n_in), U(wo), U(oo), U(do)
    for q in range(uoo, uoo + uB * un):
        out[q] = 0.0
    for i in range(uB):
        di = udo + i * ur
        oi = uoo + i * un
        for j in range(ur):
            dv = d[di + j]
            if dv != 0.0:
                wj = uwo + j * un
                for k in range(un):
                    out[oi + k] += dv * theta[wj + k]


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _row_max(z, zi, k):
    """max(z[zi : zi + k]) (k >= 1)."""
    m = z[zi]
    for j in range(1, k):
        if z[zi + j] > m:
            m = z[zi + j]
    return m


# --- activations ---------------------------------------------------------------------
@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _activate(code, z, zo, a, ao, B, r, u):
    """a = f(z) for a batch block; maxout takes the larger of rows 2j, 2j+1; softmax per row.

    z block: B x r at zo; a block: B x u at ao (u = r except maxout, u = r / 2).
    """
    if code == _MAXOUT:
        for i in range(B):
            zi = zo + i * r
            ai = ao + i * u
            for j in range(u):
                p = z[zi + 2 * j]
                q = z[zi + 2 * j + 1]
                a[ai + j] = p if p >= q else q
        return
    if code == _SOFTMAX:
        for i in range(B):
            zi = zo + i * r
            ai = ao + i * r
            m = _row_max(z, zi, r)
            s = 0.0
            for j in range(r):
                e = np.exp(z[zi + j] - m)
                a[ai + j] = e
                s += e
            for j in range(r):
                a[ai + j] /= s
        return
    n = U(B * r)
    ao = U(ao)
    zo = U(zo)
    if code == 0:
        for q in range(n):
            a[ao + q] = z[zo + q]
    elif code == 1:
        for q in range(n):
            a[ao + q] = 1.0 if z[zo + q] > 0.0 else 0.0
    elif code == 2:
        for q in range(n):
            a[ao + q] = _sigmoid(z[zo + q])
    elif code == 3:
        for q in range(n):
            a[ao + q] = _tanh(z[zo + q])
    elif code == 4:
        for q in range(n):
            x = z[zo + q]
            a[ao + q] = x if x > 0.0 else 0.0
    elif code == 5:
        for q in range(n):
            x = z[zo + q]
            a[ao + q] = x if x > 0.0 else 0.1 * x
    else:  # elu, alpha 1
        for q in range(n):
            x = z[zo + q]
            a[ao + q] = x if x > 0.0 else np.expm1(x)


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _dact(code, x, y):
    """f'(z) of an elementwise activation, given z = x and f(z) = y."""
    if code == 0:
        return 1.0
    if code == 1:
        return 0.0
    if code == 2:
        return y * (1.0 - y)
    if code == 3:
        return 1.0 - y * y
    if code == 4:
        return 1.0 if x > 0.0 else 0.0
    if code == 5:
        return 1.0 if x > 0.0 else 0.1
    return 1.0 if x > 0.0 else y + 1.0  # elu: derivative exp(z) = f(z) + 1 for z <= 0


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _backprop_act(code, z, zo, a, ao, da, dao, dz, dzo, B, r, u):
    """dz = da * f'(z), or routed to the winning piece for maxout (flat blocks)."""
    if code == _MAXOUT:
        for i in range(B):
            zi = zo + i * r
            di = dao + i * u
            oi = dzo + i * r
            for j in range(u):
                if z[zi + 2 * j] >= z[zi + 2 * j + 1]:
                    dz[oi + 2 * j] = da[di + j]
                    dz[oi + 2 * j + 1] = 0.0
                else:
                    dz[oi + 2 * j] = 0.0
                    dz[oi + 2 * j + 1] = da[di + j]
        return
    n = U(B * r)
    zo, ao, dao, dzo = U(zo), U(ao), U(dao), U(dzo)
    if code == 0:
        for q in range(n):
            dz[dzo + q] = da[dao + q]
    elif code == 1:
        for q in range(n):
            dz[dzo + q] = 0.0
    elif code == 2:
        for q in range(n):
            y = a[ao + q]
            dz[dzo + q] = da[dao + q] * (y * (1.0 - y))
    elif code == 3:
        for q in range(n):
            y = a[ao + q]
            dz[dzo + q] = da[dao + q] * (1.0 - y * y)
    elif code == 4:
        for q in range(n):
            dz[dzo + q] = da[dao + q] if z[zo + q] > 0.0 else 0.0
    elif code == 5:
        for q in range(n):
            dz[dzo + q] = da[dao + q] if z[zo + q] > 0.0 else 0.1 * da[dao + q]
    else:
        for q in range(n):
            dz[dzo + q] = da[dao + q] * (1.0 if z[zo + q] > 0.0 else a[ao + q] + 1.0)


# --- forward ------------------------------------------------------------------------
@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, tbuf, ibuf,
             need_last=True):
    """Feed the batch in ``abuf`` layer 0 forward: z_l = a_{l-1} W_l^T + b_l, a_l = f(z_l).

    ``tbuf``, ``ibuf``: scratch for :func:`_affine` (``_tbuf_len`` and ``_ibuf_len``
    values, or empty).
    ``need_last=False`` leaves the output activation a_L uncomputed (training with a loss
    that reads only z_L: cross-entropy's softmax, perceptron, hinge).
    """
    L = rows.shape[0]
    for l in range(L):
        r = rows[l]
        zo = B * zcum[l]
        _affine(theta, woff[l], r, units[l], abuf, B * acum[l], zbuf, zo, B, tbuf, ibuf)
        if need_last or l < L - 1:
            _activate(acts[l], zbuf, zo, abuf, B * acum[l + 1], B, r, units[l + 1])


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _loss_delta(loss_code, out_code, z, zo, a, ao, Y, yo, dz, do, B, k, want_delta):
    """Return the summed loss over the batch and write dL/dz per sample into ``dz`` (a
    B x k block, also written as scratch when ``want_delta`` is False).

    All blocks are B x k, flat at their offsets. mse = sum_k (f(z_k) - y_k)^2; bce from
    s = sigmoid(z); cross_entropy from softmax(z) with one-hot Y; perceptron max(0, -t z)
    and hinge max(0, 1 - t z) with t = 2y - 1 (the perceptron moves on t z <= 0).
    """
    total = 0.0
    if loss_code == 0:  # mse
        for i in range(B):
            zi = zo + i * k
            ai = ao + i * k
            yi = yo + i * k
            di = do + i * k
            if out_code == _SOFTMAX:
                # Jacobian of softmax: dL/dz_m = sum_j 2 (p_j - y_j) p_j (delta_jm - p_m)
                s = 0.0
                for j in range(k):
                    e = a[ai + j] - Y[yi + j]
                    total += e * e
                    s += 2.0 * e * a[ai + j]
                if want_delta:
                    for m in range(k):
                        dz[di + m] = a[ai + m] * (2.0 * (a[ai + m] - Y[yi + m]) - s)
            else:
                for j in range(k):
                    e = a[ai + j] - Y[yi + j]
                    total += e * e
                    if want_delta:
                        dz[di + j] = 2.0 * e * _dact(out_code, z[zi + j], a[ai + j])
    elif loss_code == 1:  # bce
        # -(y log s + (1-y) log(1-s)) = log(1+e^x) - y x: per element into dz in one
        # vectorised pass, summed in order, then dz takes the deltas
        n, uzo, uyo, udo, uao = U(B * k), U(zo), U(yo), U(do), U(ao)
        for q in range(n):
            x = z[uzo + q]
            dz[udo + q] = _log1pexp(x) - Y[uyo + q] * x
        for q in range(n):
            total += dz[udo + q]
        if want_delta:
            # a sigmoid output already holds sigmoid(z), computed the same way
            if out_code == 2:
                for q in range(n):
                    dz[udo + q] = a[uao + q] - Y[uyo + q]
            else:
                for q in range(n):
                    dz[udo + q] = _sigmoid(z[uzo + q]) - Y[uyo + q]
    elif loss_code == 2:  # cross entropy with softmax
        # z - max per sample into dz, one flat (vectorised) pass of exps over the batch,
        # then per sample: log-sum-exp, loss, and softmax - y from the same exps
        for i in range(B):
            zi = zo + i * k
            di = do + i * k
            m = _row_max(z, zi, k)
            for j in range(k):
                dz[di + j] = z[zi + j] - m
        udo = U(do)
        for q in range(U(B * k)):
            dz[udo + q] = _exp_le0(dz[udo + q])
        for i in range(B):
            zi = zo + i * k
            yi = yo + i * k
            di = do + i * k
            m = _row_max(z, zi, k)
            s = 0.0
            for j in range(k):
                s += dz[di + j]
            lse = m + np.log(s)
            for j in range(k):
                total += Y[yi + j] * (lse - z[zi + j])
                if want_delta:
                    dz[di + j] = dz[di + j] / s - Y[yi + j]  # softmax - y
    else:  # perceptron (3) or hinge (4)
        margin = 0.0 if loss_code == 3 else 1.0
        for q in range(B * k):
            t = 2.0 * Y[yo + q] - 1.0
            tz = t * z[zo + q]
            if loss_code == 3:
                if tz < 0.0:
                    total -= tz
                if want_delta:
                    dz[do + q] = -t if tz <= 0.0 else 0.0
            else:
                if tz < margin:
                    total += margin - tz
                if want_delta:
                    dz[do + q] = -t if tz < margin else 0.0
    return total


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _penalty(theta, units, rows, woff, l1, l2):
    """l2 * sum(W^2) + l1 * sum(|W|) over weights, never biases."""
    if l1 == 0.0 and l2 == 0.0:
        return 0.0
    p = 0.0
    for l in range(rows.shape[0]):
        o = woff[l]
        for i in range(o, o + rows[l] * units[l]):
            w = theta[i]
            p += l2 * w * w + l1 * abs(w)
    return p


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2,
              ibuf):
    """Backpropagate the output deltas in ``dbuf`` (layer L) into ``grad``.

    dW_l = delta_l^T a_{l-1} / B + 2 l2 W + l1 sign(W);  db_l = mean(delta_l);
    delta_{l-1} = (delta_l W_l) * f'(z_{l-1}). ``dbuf`` holds the deltas at the offsets of
    ``zbuf`` and, at its end, room for one B x max(units) block of da.
    """
    L = rows.shape[0]
    inv = 1.0 / B
    tot = dbuf.shape[0]
    for l in range(L - 1, -1, -1):
        r = rows[l]
        n_in = units[l]
        wo = woff[l]
        bo = wo + r * n_in
        do = B * zcum[l]
        ao = B * acum[l]
        # z_l is read no more (its delta is in dbuf): its block is the scratch
        _weight_grad(grad, wo, r, n_in, dbuf, do, abuf, ao, B, ibuf, zbuf, do, B * r)
        # bias: the sum over the batch, samples in order, units side by side
        ubo, ur = U(bo), U(r)
        for j in range(ur):
            grad[ubo + j] = 0.0
        for i in range(U(B)):
            di = U(do) + i * ur
            for j in range(ur):
                grad[ubo + j] += dbuf[di + j]
        for j in range(ur):
            grad[ubo + j] *= inv
        if l1 != 0.0:
            for q in range(U(wo), U(bo)):
                w = theta[q]
                g = grad[q] * inv + 2.0 * l2 * w
                if w > 0.0:
                    g += l1
                elif w < 0.0:
                    g -= l1
                grad[q] = g
        else:
            for q in range(U(wo), U(bo)):
                grad[q] = grad[q] * inv + 2.0 * l2 * theta[q]
        if l > 0:
            rp = rows[l - 1]
            dao = tot - B * n_in
            _delta_back(theta, wo, r, n_in, dbuf, do, dbuf, dao, B, ibuf)
            _backprop_act(acts[l - 1], zbuf, B * zcum[l - 1], abuf, ao, dbuf, dao,
                          dbuf, B * zcum[l - 1], B, rp, n_in)


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _unit_stats(acts, rows, units, zbuf, abuf, zcum, acum, B, out_dead, out_sat, s):
    """Per layer: fraction of dead units (ReLU inactive on every sample of the batch) and of
    saturated units (sigmoid/tanh derivative below 0.01 on every sample).

    Each unit's largest a (ReLU) or derivative (sigmoid, tanh) over the batch is taken
    in passes along the samples' rows, into ``zbuf[:units]`` (z is read no more this
    step), and a unit counts when that maximum is not > 0 (not >= 0.01). A NaN never
    wins the comparison, so, as in a scan of each unit, it reads as off. (The scan of each
    unit down its column, stopping at the first active sample: 1.05 us of W3's step;
    these passes vectorise.) Layers under ``_STATS_PASS_MIN_UNITS`` units keep that scan
    for batches of 2 or more: it usually stops at the first sample, and the passes'
    set-up dominated there."""
    L = rows.shape[0]
    for l in range(L):
        code = acts[l]
        out_dead[s, l] = 0.0
        out_sat[s, l] = 0.0
        if code != 4 and code != 2 and code != 3:
            continue
        u = units[l + 1]
        uu = U(u)
        ao = U(B * acum[l + 1])
        if u < _STATS_PASS_MIN_UNITS and B > 1:
            # a narrow layer (W1's 8 tanh units): down each unit's column, stopping at
            # its first active sample, usually the first (W1: 12 ns, the passes 120;
            # a batch of one, W5, is 5 % faster with the pass, one row)
            count = 0
            for j in range(uu):
                i = U(0)
                while i < U(B):
                    x = abuf[ao + i * uu + j]
                    if code == 4:
                        if x > 0.0:
                            break
                    elif (x * (1.0 - x) if code == 2 else 1.0 - x * x) >= 0.01:
                        break
                    i += U(1)
                count += 1 if i == U(B) else 0
        else:
            for j in range(uu):
                zbuf[j] = -np.inf
            for i in range(U(B)):
                ai = ao + i * uu
                if code == 4:
                    for j in range(uu):
                        x = abuf[ai + j]
                        zbuf[j] = x if x > zbuf[j] else zbuf[j]
                elif code == 2:
                    for j in range(uu):
                        x = abuf[ai + j]
                        dv = x * (1.0 - x)
                        zbuf[j] = dv if dv > zbuf[j] else zbuf[j]
                else:
                    for j in range(uu):
                        x = abuf[ai + j]
                        dv = 1.0 - x * x
                        zbuf[j] = dv if dv > zbuf[j] else zbuf[j]
            count = 0
            for j in range(uu):
                if code == 4:
                    count += 0 if zbuf[j] > 0.0 else 1
                else:
                    count += 0 if zbuf[j] >= 0.01 else 1
        if code == 4:
            out_dead[s, l] = count / u
        else:
            out_sat[s, l] = count / u


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _du(opt_code, nest, g, v, a, lr_t, mom, rho, eps, b1, b2, alpha):
    """One parameter's update from its gradient ``g`` and optimizer state ``v``, ``a``:
    return (update, new v, new a). Scalars only: an inlined helper that took the arrays
    would add reference-count calls for every element."""
    if opt_code == 0:
        v = mom * v - lr_t * g
        du = mom * v - lr_t * g if nest else v
    elif opt_code == 1:
        a = a + g * g
        du = -lr_t * g / (np.sqrt(a) + eps)
    elif opt_code == 2:
        a = rho * a + (1.0 - rho) * g * g
        du = -lr_t * g / (np.sqrt(a) + eps)
    else:
        v = v + (1.0 - b1) * (g - v)
        a = a + (1.0 - b2) * (g * g - a)
        du = -alpha * v / (np.sqrt(a) + eps)
    return du, v, a


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _update_range(opt_code, nest, start, stop, theta, grad, vel, acc, lr_t, mom, rho, eps,
                  b1, b2, alpha):
    """Update parameters [start, stop); return the sums of g^2, du^2, w^2 before and after.

    (Splitting these sums into four lanes measured no faster here; large layers take the
    vectorised path with BLAS norms in :func:`_update` instead.)
    """
    gsq = usq = wsq0 = wsq = 0.0
    for i in range(start, stop):
        g = grad[i]
        w = theta[i]
        du, v, a = _du(opt_code, nest, g, vel[i], acc[i], lr_t, mom, rho, eps, b1, b2, alpha)
        if opt_code == 0 or opt_code == 3:
            vel[i] = v
        if opt_code != 0:
            acc[i] = a
        wn = w + du
        theta[i] = wn
        gsq += g * g
        usq += du * du
        wsq0 += w * w
        wsq += wn * wn
    return gsq, usq, wsq0, wsq


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _sumsq(a):
    """sum(a^2) as float64 by a BLAS dot product; a float32 sum that overflows (past
    3.4e38) is redone in float64, so only a float64 overflow reads as non-finite (as in
    the element loop). NaN stays NaN either way."""
    s = np.float64(np.dot(a, a))
    if np.isinf(s) and a.itemsize == 4:
        s = 0.0
        for i in range(U(a.shape[0])):
            x = np.float64(a[i])
            s += x * x
    return s


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp, t,
            out_gnorm, out_wnorm, out_uratio, s):
    """Apply one optimizer update (Keras semantics) and write per-layer norms.

    sgd: lr_t = lr / (1 + decay t); v = momentum v - lr_t g; w += v
    (Nesterov: w += momentum v - lr_t g). adagrad: a += g^2; w -= lr_t g / (sqrt(a)+eps).
    rmsprop: a = rho a + (1-rho) g^2; w -= lr_t g / (sqrt(a)+eps).
    adam: m += (1-b1)(g-m); v += (1-b2)(g^2-v); w -= lr_t sqrt(1-b2^k)/(1-b1^k) m/(sqrt(v)+eps).
    Per layer: gradient norm, weight norm after the update, update norm / weight norm
    before it, each written SQUARED (``_sqrt_rows`` takes the roots of a whole chunk at
    once, eight to an instruction: three scalar square roots per layer were a tenth of
    W5's step). Returns a non-finite flag mask (gradient, weights).
    """
    lr_t = hp[HP_LR] / (1.0 + hp[HP_DECAY] * t)
    mom = hp[HP_MOMENTUM]
    nest = hp[HP_NESTEROV] != 0.0
    eps = hp[HP_EPS]
    rho = hp[HP_RHO]
    b1 = hp[HP_BETA1]
    b2 = hp[HP_BETA2]
    alpha = lr_t
    if opt_code == 3:
        k = t + 1.0
        alpha = lr_t * np.sqrt(1.0 - b2 ** k) / (1.0 - b1 ** k)
    flags = 0
    L = rows.shape[0]
    for l in range(L):
        start = U(woff[l])
        stop = start + U(rows[l] * units[l] + rows[l])
        if opt_code == 0 and not nest and theta.itemsize == 8:
            # plain SGD in float64: vectors of 8 by _sgd_vec, the rest one by one
            nv = (stop - start) // U(8)
            gsq, usq, wsq0, wsq = _sgd_vec(theta, grad, vel, start, nv, lr_t, mom)
            tg, tu, tw0, tw = _update_range(0, False, start + nv * U(8), stop, theta, grad,
                                            vel, acc, lr_t, mom, rho, eps, b1, b2, alpha)
            gsq += tg
            usq += tu
            wsq0 += tw0
            wsq += tw
        elif opt_code == 0 and not nest and stop - start >= _UPDATE_VEC_MIN:
            # a layer of 128 parameters or more, plain SGD: the update as its own loop
            # (vectorised; the same arithmetic as below), the four norms by BLAS dot
            # products (du is the new velocity). A float32 layer's 3.4 ns a parameter
            # (float64 sums, converted element by element) was a third of W4's step.
            a, b = np.int64(start), np.int64(stop)
            W = theta[a:b]
            G = grad[a:b]
            V = vel[a:b]
            gsq = _sumsq(G)
            wsq0 = _sumsq(W)
            for i in range(start, stop):
                v = mom * vel[i] - lr_t * grad[i]
                vel[i] = v
                theta[i] = theta[i] + v
            usq = _sumsq(V)
            wsq = _sumsq(W)
        elif opt_code == 0 and not nest:  # the common case, compiled on its own
            gsq, usq, wsq0, wsq = _update_range(0, False, start, stop, theta, grad, vel,
                                                acc, lr_t, mom, rho, eps, b1, b2, alpha)
        else:
            gsq, usq, wsq0, wsq = _update_range(opt_code, nest, start, stop, theta, grad,
                                                vel, acc, lr_t, mom, rho, eps, b1, b2,
                                                alpha)
        out_gnorm[s, l] = gsq
        out_wnorm[s, l] = wsq
        if wsq0 > 0.0:
            out_uratio[s, l] = usq / wsq0
        else:
            out_uratio[s, l] = np.inf if usq > 0.0 else 0.0
        if not np.isfinite(gsq):
            flags |= NF_GRAD
        if not np.isfinite(wsq):
            flags |= NF_WEIGHTS
    return flags


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _sqrt_rows(out, n):
    """out[:n] = sqrt(out[:n]) for a C-contiguous (m, L) array: one loop over n L values,
    which LLVM vectorises (the same correctly rounded roots as one at a time)."""
    L = U(out.shape[1])
    flat = out.reshape(out.shape[0] * out.shape[1])
    for i in range(U(n) * L):
        flat[i] = np.sqrt(flat[i])


# --- the chunked training loop --------------------------------------------------------
@njit(nogil=True, cache=True, error_model="numpy")
def train_chunk(X, Y, theta, grad, vel, acc, units, rows, acts, woff, zcum, acum,
                loss_code, opt_code, hp, perm, counters, rng, batch_size, n_steps,
                stop_at_step, zbuf, abuf, dbuf, ybuf, ibuf,
                out_loss, out_gnorm, out_wnorm, out_uratio, out_dead, out_sat, out_flags):
    """Run up to ``n_steps`` mini-batch steps; return the number done.

    Each epoch starts with a Fisher-Yates shuffle of ``perm`` from the splitmix64 state
    ``rng``; batches are consecutive slices of ``perm`` and the last, smaller batch of an
    epoch is kept. ``counters`` = [step, epoch, position in epoch, optimizer updates t].
    Stops early after a step with a non-finite value (that step is counted and flagged)
    or when ``counters[step]`` reaches ``stop_at_step`` (>= 0).
    """
    X, Y, theta, grad, vel, acc = (_borrow(X), _borrow(Y), _borrow(theta), _borrow(grad),
                                   _borrow(vel), _borrow(acc))
    units, rows, acts, woff, zcum, acum = (_borrow(units), _borrow(rows), _borrow(acts),
                                           _borrow(woff), _borrow(zcum), _borrow(acum))
    hp, perm, counters, rng = _borrow(hp), _borrow(perm), _borrow(counters), _borrow(rng)
    zbuf, abuf, dbuf, ybuf = _borrow(zbuf), _borrow(abuf), _borrow(dbuf), _borrow(ybuf)
    ibuf = _borrow(ibuf)
    out_loss, out_gnorm, out_wnorm = _borrow(out_loss), _borrow(out_gnorm), _borrow(out_wnorm)
    out_uratio, out_dead, out_sat = _borrow(out_uratio), _borrow(out_dead), _borrow(out_sat)
    out_flags = _borrow(out_flags)
    n = X.shape[0]
    d = X.shape[1]
    k = Y.shape[1]
    L = rows.shape[0]
    out_code = acts[L - 1]
    l1 = hp[HP_L1]
    l2 = hp[HP_L2]
    # a_L is read by mse, by bce from a sigmoid output (its delta) and by the unit
    # statistics of a sigmoid, tanh or ReLU output; cross-entropy (softmax from z),
    # perceptron and hinge read z_L only
    need_last = loss_code == 0 or out_code == 2 or out_code == 3 or out_code == 4
    done = 0
    for s in range(n_steps):
        if stop_at_step >= 0 and counters[C_STEP] >= stop_at_step:
            break
        pos = counters[C_POS]
        if pos == 0:
            shuffle_inplace(perm, rng)
        B = batch_size if pos + batch_size <= n else n - pos
        for i in range(B):
            idx = perm[pos + i]
            for c in range(d):
                abuf[i * d + c] = X[idx, c]
            for c in range(k):
                ybuf[i * k + c] = Y[idx, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, dbuf, ibuf,
                 need_last)
        loss = _loss_delta(loss_code, out_code, zbuf, B * zcum[L - 1], abuf, B * acum[L],
                           ybuf, 0, dbuf, B * zcum[L - 1], B, k, True) / B
        loss += _penalty(theta, units, rows, woff, l1, l2)
        _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2,
                  ibuf)
        _unit_stats(acts, rows, units, zbuf, abuf, zcum, acum, B, out_dead, out_sat, s)
        flags = _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp,
                        float(counters[C_T]), out_gnorm, out_wnorm, out_uratio, s)
        if not np.isfinite(loss):
            flags |= NF_LOSS
        out_loss[s] = loss
        out_flags[s] = flags
        counters[C_T] += 1
        counters[C_STEP] += 1
        pos += B
        if pos >= n:
            pos = 0
            counters[C_EPOCH] += 1
        counters[C_POS] = pos
        done += 1
        if flags != 0:
            break
    _sqrt_rows(out_gnorm, done)
    _sqrt_rows(out_wnorm, done)
    _sqrt_rows(out_uratio, done)
    return done


@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _aligned_empty(n, dtype):
    """np.empty(n, dtype) whose data start on a 64-byte boundary (Numba aligns its arrays
    to 32 bytes; see :mod:`workbench.core.aligned`)."""
    raw = np.empty(n + 16, dtype)
    off = (U(64) - U(raw.ctypes.data) % U(64)) % U(64) // U(raw.itemsize)
    return raw[off:off + U(n)]


# --- whole-set evaluation and on-demand probes -----------------------------------------
@njit(nogil=True, cache=True, inline='always', error_model="numpy")
def _load_block(X, start, B, abuf):
    d = X.shape[1]
    for i in range(B):
        for c in range(d):
            abuf[i * d + c] = X[start + i, c]


@njit(nogil=True, cache=True, error_model="numpy")
def _forward_all_body(theta, units, rows, acts, woff, zcum, acum, X, block, out_z, out_a,
                      zbuf, abuf, tbuf, ibuf):
    theta, units, rows, acts, woff = (_borrow(theta), _borrow(units), _borrow(rows),
                                      _borrow(acts), _borrow(woff))
    zcum, acum, X, out_z, out_a = (_borrow(zcum), _borrow(acum), _borrow(X),
                                   _borrow(out_z), _borrow(out_a))
    zbuf, abuf, tbuf, ibuf = _borrow(zbuf), _borrow(abuf), _borrow(tbuf), _borrow(ibuf)
    n = X.shape[0]
    L = rows.shape[0]
    for start in range(0, n, block):
        B = min(block, n - start)
        _load_block(X, start, B, abuf)
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, tbuf, ibuf)
        for l in range(L):
            r = rows[l]
            u = units[l + 1]
            zo = B * zcum[l]
            ao = B * acum[l + 1]
            for i in range(B):
                for j in range(r):
                    out_z[start + i, zcum[l] + j] = zbuf[zo + i * r + j]
                for j in range(u):
                    out_a[start + i, acum[l + 1] - units[0] + j] = abuf[ao + i * u + j]


@njit(nogil=True, cache=True, error_model="numpy")
def forward_all(theta, units, rows, acts, woff, zcum, acum, X, block, out_z, out_a):
    """Feed all of X forward in blocks; write every layer's z and a for every sample.

    out_z: (n, sum rows), out_a: (n, sum units[1:]) with layer blocks side by side.
    """
    L = rows.shape[0]
    zbuf = _aligned_empty(block * zcum[L], theta.dtype)
    abuf = _aligned_empty(block * acum[L + 1], theta.dtype)
    tbuf = _aligned_empty(_tbuf_len(block, units, rows), theta.dtype)
    _forward_all_body(theta, units, rows, acts, woff, zcum, acum, X, block, out_z, out_a,
                      zbuf, abuf, tbuf, _aligned_empty(_ibuf_len(block, units, rows), np.int64))


@njit(nogil=True, cache=True, error_model="numpy")
def _predict_body(theta, units, rows, acts, woff, zcum, acum, X, block, out, zbuf, abuf,
                  tbuf, ibuf):
    theta, units, rows, acts, woff = (_borrow(theta), _borrow(units), _borrow(rows),
                                      _borrow(acts), _borrow(woff))
    zcum, acum, X, out = _borrow(zcum), _borrow(acum), _borrow(X), _borrow(out)
    zbuf, abuf, tbuf, ibuf = _borrow(zbuf), _borrow(abuf), _borrow(tbuf), _borrow(ibuf)
    n = X.shape[0]
    L = rows.shape[0]
    k = units[L]
    for start in range(0, n, block):
        B = min(block, n - start)
        _load_block(X, start, B, abuf)
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, tbuf, ibuf)
        ao = B * acum[L]
        for i in range(B):
            for j in range(k):
                out[start + i, j] = abuf[ao + i * k + j]


@njit(nogil=True, cache=True, error_model="numpy")
def predict(theta, units, rows, acts, woff, zcum, acum, X, block, out):
    """Write the network outputs f(z_L) for every row of X into ``out`` (n, k)."""
    L = rows.shape[0]
    zbuf = _aligned_empty(block * zcum[L], theta.dtype)
    abuf = _aligned_empty(block * acum[L + 1], theta.dtype)
    tbuf = _aligned_empty(_tbuf_len(block, units, rows), theta.dtype)
    _predict_body(theta, units, rows, acts, woff, zcum, acum, X, block, out, zbuf, abuf, tbuf,
                  _aligned_empty(_ibuf_len(block, units, rows), np.int64))


@njit(nogil=True, cache=True, error_model="numpy")
def _evaluate_body(theta, units, rows, acts, woff, zcum, acum, loss_code, l1, l2, X, Y,
                   classify, threshold_z, block, unit_off, unit_sat, zbuf, abuf, dz, yb,
                   tbuf, ibuf):
    theta, units, rows, acts, woff = (_borrow(theta), _borrow(units), _borrow(rows),
                                      _borrow(acts), _borrow(woff))
    zcum, acum, X, Y = _borrow(zcum), _borrow(acum), _borrow(X), _borrow(Y)
    unit_off, unit_sat = _borrow(unit_off), _borrow(unit_sat)
    zbuf, abuf, dz, yb = _borrow(zbuf), _borrow(abuf), _borrow(dz), _borrow(yb)
    tbuf, ibuf = _borrow(tbuf), _borrow(ibuf)
    n = X.shape[0]
    k = Y.shape[1]
    L = rows.shape[0]
    out_code = acts[L - 1]
    total = 0.0
    correct = 0
    unit_off[:] = 0
    unit_sat[:] = 0
    for start in range(0, n, block):
        B = min(block, n - start)
        _load_block(X, start, B, abuf)
        for i in range(B):
            for c in range(k):
                yb[i * k + c] = Y[start + i, c]
        _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, tbuf, ibuf)
        zo = B * zcum[L - 1]
        ao = B * acum[L]
        total += _loss_delta(loss_code, out_code, zbuf, zo, abuf, ao, yb, 0, dz, 0, B, k,
                             False)
        if classify == 1:
            for i in range(B):
                if threshold_z:
                    p = 1.0 if zbuf[zo + i] > 0.0 else 0.0
                else:
                    p = 1.0 if abuf[ao + i] > 0.5 else 0.0
                if p == yb[i]:
                    correct += 1
        elif classify == 2:
            for i in range(B):
                best = 0
                for j in range(1, k):
                    if zbuf[zo + i * k + j] > zbuf[zo + i * k + best]:
                        best = j
                if yb[i * k + best] == 1.0:
                    correct += 1
        for l in range(L):
            code = acts[l]
            if code != 2 and code != 3 and code != 4:
                continue
            # branch-free counts (a compare added as 0/1), vectorised across units
            u = U(units[l + 1])
            lo = U(B * acum[l + 1])
            base = U(acum[l + 1] - units[0])
            if code == 4:
                for i in range(U(B)):
                    row = lo + i * u
                    for j in range(u):
                        unit_off[base + j] += np.int64(abuf[row + j] <= 0.0)
            elif code == 2:
                for i in range(U(B)):
                    row = lo + i * u
                    for j in range(u):
                        x = abuf[row + j]
                        unit_sat[base + j] += np.int64(x * (1.0 - x) < 0.01)
            else:
                for i in range(U(B)):
                    row = lo + i * u
                    for j in range(u):
                        x = abuf[row + j]
                        unit_sat[base + j] += np.int64(1.0 - x * x < 0.01)
    loss = total / max(n, 1) + _penalty(theta, units, rows, woff, l1, l2)
    acc = correct / max(n, 1) if classify != 0 else -1.0
    return loss, acc


@njit(nogil=True, cache=True, error_model="numpy")
def evaluate(theta, units, rows, acts, woff, zcum, acum, loss_code, l1, l2, X, Y,
             classify, threshold_z, block, unit_off, unit_sat):
    """Return (mean loss incl. penalty, accuracy or -1) over all of X and count, per
    hidden or output unit, the samples on which it is off (ReLU z <= 0) or saturated
    (sigmoid/tanh derivative below 0.01) into ``unit_off`` / ``unit_sat`` (sum units[1:]).

    ``classify``: 0 regression, 1 one output thresholded, 2 argmax. ``threshold_z``:
    for one output, predict class 1 when z > 0 (True) or when f(z) > 0.5 (False).
    """
    k = Y.shape[1]
    L = rows.shape[0]
    zbuf = _aligned_empty(block * zcum[L], theta.dtype)
    abuf = _aligned_empty(block * acum[L + 1], theta.dtype)
    dz = _aligned_empty(block * k, theta.dtype)
    yb = _aligned_empty(block * k, theta.dtype)
    return _evaluate_body(theta, units, rows, acts, woff, zcum, acum, loss_code, l1, l2,
                          X, Y, classify, threshold_z, block, unit_off, unit_sat,
                          zbuf, abuf, dz, yb,
                          _aligned_empty(_tbuf_len(block, units, rows), theta.dtype),
                          _aligned_empty(_ibuf_len(block, units, rows), np.int64))


@njit(nogil=True, cache=True, error_model="numpy")
def _loss_and_grad_body(theta, grad, units, rows, acts, woff, zcum, acum, loss_code, l1,
                        l2, X, Y, zbuf, abuf, dbuf, yb, ibuf):
    theta, grad, units, rows, acts = (_borrow(theta), _borrow(grad), _borrow(units),
                                      _borrow(rows), _borrow(acts))
    woff, zcum, acum, X, Y = _borrow(woff), _borrow(zcum), _borrow(acum), _borrow(X), _borrow(Y)
    zbuf, abuf, dbuf, yb = _borrow(zbuf), _borrow(abuf), _borrow(dbuf), _borrow(yb)
    ibuf = _borrow(ibuf)
    B = X.shape[0]
    k = Y.shape[1]
    L = rows.shape[0]
    _load_block(X, 0, B, abuf)
    for i in range(B):
        for c in range(k):
            yb[i * k + c] = Y[i, c]
    _forward(theta, units, rows, acts, woff, B, zbuf, abuf, zcum, acum, dbuf, ibuf)
    zo = B * zcum[L - 1]
    loss = _loss_delta(loss_code, acts[L - 1], zbuf, zo, abuf, B * acum[L], yb, 0,
                       dbuf, zo, B, k, True) / B
    loss += _penalty(theta, units, rows, woff, l1, l2)
    _backward(theta, grad, units, rows, acts, woff, B, zbuf, abuf, dbuf, zcum, acum, l1, l2,
              ibuf)
    return loss


@njit(nogil=True, cache=True, error_model="numpy")
def loss_and_grad(theta, grad, units, rows, acts, woff, zcum, acum, loss_code, l1, l2, X, Y):
    """Return the mean loss (penalty included) of the whole batch X, Y and write its
    gradient into ``grad`` (same layout as theta)."""
    B = X.shape[0]
    k = Y.shape[1]
    L = rows.shape[0]
    zbuf = _aligned_empty(B * zcum[L], theta.dtype)
    abuf = _aligned_empty(B * acum[L + 1], theta.dtype)
    maxu = 0
    for l in range(L + 1):
        maxu = max(maxu, units[l])
    dbuf = _aligned_empty(max(B * zcum[L] + B * maxu, _tbuf_len(0, units, rows)), theta.dtype)
    yb = _aligned_empty(B * k, theta.dtype)
    return _loss_and_grad_body(theta, grad, units, rows, acts, woff, zcum, acum, loss_code,
                               l1, l2, X, Y, zbuf, abuf, dbuf, yb,
                               _aligned_empty(_ibuf_len(B, units, rows), np.int64))


@njit(nogil=True, cache=True, error_model="numpy")
def histogram(values, lo, hi, out):
    """Count ``values`` into ``out.shape[0]`` equal bins over [lo, hi]; values outside are
    clipped into the end bins, non-finite ones are skipped."""
    nb = out.shape[0]
    out[:] = 0
    if hi <= lo:
        hi = lo + 1e-12
    scale = nb / (hi - lo)
    for v in values:
        if not np.isfinite(v):
            continue
        b = int((v - lo) * scale)
        if b < 0:
            b = 0
        elif b >= nb:
            b = nb - 1
        out[b] += 1


@njit(nogil=True, cache=True, error_model="numpy")
def update_flat(theta, grad, vel, acc, opt_code, hp, t):
    """One optimizer update of a whole flat vector (the rule of :func:`_update`)."""
    n = theta.shape[0]
    units = np.array([n - 1, 1], dtype=np.int64)
    rows = np.array([1], dtype=np.int64)
    woff = np.array([0], dtype=np.int64)
    g = np.empty((1, 1))
    w = np.empty((1, 1))
    u = np.empty((1, 1))
    return _update(theta, grad, vel, acc, units, rows, woff, opt_code, hp, t, g, w, u, 0)
