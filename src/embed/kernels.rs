//! The arithmetic of the encoder: int8 dot products (the weights are int8
//! with a scale per row; activations are quantised per token on the fly),
//! layer norm, GELU, softmax.

/// Symmetric int8 quantisation of `x`: values and the scale that brings
/// them back (`x ≈ q * scale`).
#[inline(always)]
pub fn quantize(x: &[f32], q: &mut [i8]) -> f32 {
    let max = x.iter().fold(0f32, |m, v| m.max(v.abs()));
    if max == 0.0 {
        q.fill(0);
        return 0.0;
    }
    let inv = 127.0 / max;
    for (q, v) in q.iter_mut().zip(x) {
        // Half away from zero, as `round`, which is a libm call on a
        // baseline x86-64 target; truncating `r ± 0.5` vectorises.
        let r = v * inv;
        *q = (r + 0.5f32.copysign(r)) as i8;
    }
    max / 127.0
}

/// `out[t·rows + o] = Σ x[t]·w[o]` over int8 rows of `cols` values: every
/// token of `x` against every row of `w`, exact in i32. Values lie in
/// -127..=127, as [`quantize`] makes them (−128 has no int8 negation, and
/// the multiply-add of two products of 127 stays within i16).
pub fn matmul_i8(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
    let (_, _, fastest) = paths()
        .filter(|(_, fits, _)| fits(cols))
        .last()
        .expect("the portable path fits every shape");
    fastest(x, w, cols, out);
}

/// One way to compute [`matmul_i8`].
pub type Matmul = fn(&[i8], &[i8], usize, &mut [i32]);

/// Every way this CPU can compute [`matmul_i8`] for rows of `cols` values,
/// slowest first: the last is the one [`matmul_i8`] takes. For tests and
/// benchmarks, which compare them.
pub fn matmul_paths(cols: usize) -> Vec<(&'static str, Matmul)> {
    paths()
        .filter(|(_, fits, _)| fits(cols))
        .map(|(name, _, path)| (name, path))
        .collect()
}

/// A path: its name, whether this CPU runs it for rows of `cols` values,
/// and the path.
type Path = (&'static str, fn(usize) -> bool, Matmul);

/// Every path, slowest first.
fn paths() -> impl Iterator<Item = Path> {
    let portable: [Path; 1] = [("portable", |_| true, matmul_i8_portable)];
    #[cfg(target_arch = "x86_64")]
    let simd: [Path; 2] = [
        ("avx2", avx2::fits, avx2::checked),
        ("avx512-vnni", avx512::fits, avx512::checked),
    ];
    #[cfg(not(target_arch = "x86_64"))]
    let simd: [Path; 0] = [];
    portable.into_iter().chain(simd)
}

fn matmul_i8_portable(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
    let rows = w.len() / cols;
    for (t, xr) in x.chunks_exact(cols).enumerate() {
        for (o, wr) in w.chunks_exact(cols).enumerate() {
            out[t * rows + o] = dot_i8(xr, wr);
        }
    }
}

/// `Σ a[i]·b[i]` over int8 values, in i32.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    pub fn fits(cols: usize) -> bool {
        cols.is_multiple_of(32) && std::arch::is_x86_feature_detected!("avx2")
    }

    pub fn checked(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
        assert!(fits(cols));
        // SAFETY: the CPU has AVX2, asserted just above.
        unsafe { matmul_i8(x, w, cols, out) }
    }

    /// [`super::matmul_i8`] with AVX2: 32 products per step through the
    /// unsigned-by-signed multiply-add (`|x|` times `w` with `x`'s sign),
    /// four rows of `w` per load of `x`. `cols` is a multiple of 32.
    #[target_feature(enable = "avx2")]
    pub fn matmul_i8(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
        let rows = w.len() / cols;
        let ones = _mm256_set1_epi16(1);
        // Rows outermost: four rows of weights stay in cache while every
        // token passes them (the weights are read once per call).
        let mut o = 0;
        while o < rows {
            let n = (rows - o).min(4);
            let block = &w[o * cols..(o + n) * cols];
            for (t, xr) in x.chunks_exact(cols).enumerate() {
                let mut acc = [_mm256_setzero_si256(); 4];
                for c in (0..cols).step_by(32) {
                    // SAFETY: `c + 32 <= cols`, and every row holds `cols`
                    // values; unaligned loads.
                    let xv = unsafe { _mm256_loadu_si256(xr.as_ptr().add(c).cast()) };
                    let ax = _mm256_sign_epi8(xv, xv);
                    for (r, acc) in acc.iter_mut().enumerate().take(n) {
                        // SAFETY: as above, row `r` of the block.
                        let wv =
                            unsafe { _mm256_loadu_si256(block.as_ptr().add(r * cols + c).cast()) };
                        let sw = _mm256_sign_epi8(wv, xv);
                        let pairs = _mm256_maddubs_epi16(ax, sw);
                        *acc = _mm256_add_epi32(*acc, _mm256_madd_epi16(pairs, ones));
                    }
                }
                for (r, acc) in acc.iter().enumerate().take(n) {
                    out[t * rows + o + r] = hsum(*acc);
                }
            }
            o += n;
        }
    }

    #[target_feature(enable = "avx2")]
    fn hsum(v: __m256i) -> i32 {
        let lo = _mm256_castsi256_si128(v);
        let hi = _mm256_extracti128_si256(v, 1);
        let s = _mm_add_epi32(lo, hi);
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s)
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    pub fn fits(cols: usize) -> bool {
        cols.is_multiple_of(64)
            && std::arch::is_x86_feature_detected!("avx512vnni")
            && std::arch::is_x86_feature_detected!("avx512bw")
    }

    pub fn checked(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
        assert!(fits(cols));
        // SAFETY: the CPU has AVX-512 BW and VNNI, asserted just above.
        unsafe { matmul_i8(x, w, cols, out) }
    }

    /// Rows of `w` per pass over the tokens.
    const BLOCK: usize = 8;

    /// [`super::matmul_i8`] with AVX-512 VNNI: 64 products per `vpdpbusd`,
    /// which multiplies unsigned by signed. `x + 128` is unsigned (a flip of
    /// the sign bit); the `128 · Σ w` that adds to each sum is taken off at
    /// the end, each row's taken by the same instruction in the first pass
    /// (128 is the flip's own byte). Eight rows of `w` per pass over the
    /// tokens, two tokens per load of those rows: each load feeds two
    /// products. `cols` is a multiple of 64.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub fn matmul_i8(x: &[i8], w: &[i8], cols: usize, out: &mut [i32]) {
        let rows = w.len() / cols;
        let tokens = x.len() / cols;
        let mut o = 0;
        while o < rows {
            let n = (rows - o).min(BLOCK);
            let block = &w[o * cols..(o + n) * cols];
            let mut offsets = [0i32; BLOCK];
            let mut t = 0;
            while t < tokens {
                let take = (tokens - t).min(2);
                let x = &x[t * cols..(t + take) * cols];
                let sums = match (take, t == 0) {
                    (2, true) => products::<2, true>(x, block, n, cols, &mut offsets),
                    (2, false) => products::<2, false>(x, block, n, cols, &mut offsets),
                    (_, true) => products::<1, true>(x, block, n, cols, &mut offsets),
                    (_, false) => products::<1, false>(x, block, n, cols, &mut offsets),
                };
                for (i, sums) in sums.iter().enumerate().take(take) {
                    for r in 0..n {
                        out[(t + i) * rows + o + r] = sums[r] - offsets[r];
                    }
                }
                t += take;
            }
            o += n;
        }
    }

    /// `Σ (x[i] + 128) · w[r]` for `T` tokens of `x` and the first `n` rows
    /// of `block`, in the first `T` of two token rows (one type for every
    /// `T`); with `OFFSETS`, each row's `128 · Σ w` into `offsets` too.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn products<const T: usize, const OFFSETS: bool>(
        x: &[i8],
        block: &[i8],
        n: usize,
        cols: usize,
        offsets: &mut [i32; BLOCK],
    ) -> [[i32; BLOCK]; 2] {
        let zero = _mm512_setzero_si512();
        let flip = _mm512_set1_epi8(i8::MIN);
        // One accumulator per row and token, and per row for its offset.
        let mut acc = [[zero; T]; BLOCK];
        let mut off = [zero; BLOCK];
        for c in (0..cols).step_by(64) {
            let mut xv = [zero; T];
            for (i, xv) in xv.iter_mut().enumerate() {
                // SAFETY: `c + 64 <= cols`, and `x` holds `T` rows of
                // `cols` values; unaligned loads.
                let v = unsafe { _mm512_loadu_si512(x.as_ptr().add(i * cols + c).cast()) };
                *xv = _mm512_xor_si512(v, flip);
            }
            for (r, acc) in acc.iter_mut().enumerate().take(n) {
                // SAFETY: as above, row `r` of the block.
                let wv = unsafe { _mm512_loadu_si512(block.as_ptr().add(r * cols + c).cast()) };
                for (a, xv) in acc.iter_mut().zip(&xv) {
                    *a = _mm512_dpbusd_epi32(*a, *xv, wv);
                }
                if OFFSETS {
                    off[r] = _mm512_dpbusd_epi32(off[r], flip, wv);
                }
            }
        }
        if OFFSETS {
            for (o, v) in offsets.iter_mut().zip(&off).take(n) {
                *o = _mm512_reduce_add_epi32(*v);
            }
        }
        let mut sums = [[0i32; BLOCK]; 2];
        for (r, acc) in acc.iter().enumerate().take(n) {
            for (sums, a) in sums.iter_mut().zip(acc) {
                sums[r] = _mm512_reduce_add_epi32(*a);
            }
        }
        sums
    }
}

/// `Σ a[i]·b[i]` in f32 with eight partial sums, which the compiler keeps in
/// vector registers: one running sum is a chain of dependent additions,
/// each waiting for the last (the attention's scores were most of the
/// encoder's time).
#[inline(always)]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ a[i]` with eight partial sums, as [`dot_f32`].
#[inline(always)]
fn sum_f32(a: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = a.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().sum();
    for x in chunks {
        for i in 0..8 {
            acc[i] += x[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `x ← gamma · (x − mean) / sqrt(var + eps) + beta`, per row of `dim`.
#[inline(always)]
pub fn layer_norm(x: &mut [f32], dim: usize, gamma: &[f32], beta: &[f32], eps: f32) {
    for row in x.chunks_exact_mut(dim) {
        let mean = row.iter().sum::<f32>() / dim as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / dim as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

/// GELU with the error function (as BERT was trained), `erf` to within
/// 1.5e-7 (Abramowitz and Stegun 7.1.26).
#[inline(always)]
pub fn gelu(x: &mut [f32]) {
    for v in x {
        let z = *v * std::f32::consts::FRAC_1_SQRT_2;
        *v = 0.5 * *v * (1.0 + erf(z));
    }
}

#[inline(always)]
fn erf(x: f32) -> f32 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152_1 + t * 1.061_405_4))));
    sign * (1.0 - poly * exp(-x * x))
}

/// Softmax of one row, in place.
#[inline(always)]
pub fn softmax(x: &mut [f32]) {
    let max = x.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    for v in x.iter_mut() {
        *v = exp(*v - max);
    }
    let inv = 1.0 / sum_f32(x);
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// `e^x` to within a few parts in 10^7, in plain f32 arithmetic that the
/// compiler vectorises: `f32::exp` is a library call per value, and the
/// softmax and GELU make one per score and per hidden value.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // e^x = 2^n · e^r with n the integer nearest x·log2(e), |r| <= ln(2)/2.
    let x = x.clamp(-87.0, 88.0);
    // Adding and taking off 1.5·2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    // ln(2) in two parts, so that n·ln(2) is exact enough (Cody and Waite).
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_f32_matches_the_plain_sum_at_every_length() {
        for len in [0, 1, 7, 8, 32, 37, 384] {
            let a: Vec<f32> = (0..len).map(|i| ((i as f32) * 0.73).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| ((i as f32) * 1.31).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(x * y)).sum();
            let got = f64::from(dot_f32(&a, &b));
            assert!((got - plain).abs() < 1e-4, "{len}: {got} vs {plain}");
        }
    }

    #[test]
    fn matmul_matches_the_plain_sums_including_the_extremes() {
        for (tokens, rows, cols) in [
            (1, 1, 32),
            (3, 5, 64),
            (7, 384, 384),
            (2, 9, 1536),
            (5, 13, 96),
            (2, 3, 17),
        ] {
            let x: Vec<i8> = (0..tokens * cols)
                .map(|i| (((i * 37) % 255) as i16 - 127) as i8)
                .collect();
            let w: Vec<i8> = (0..rows * cols)
                .map(|i| (((i * 11 + 5) % 255) as i16 - 127) as i8)
                .collect();
            let mut got = vec![0i32; tokens * rows];
            matmul_i8(&x, &w, cols, &mut got);
            // Every path this CPU has, not only the one dispatch picks.
            for (name, path) in matmul_paths(cols) {
                let mut other = vec![0i32; tokens * rows];
                path(&x, &w, cols, &mut other);
                assert_eq!(other, got, "{name} {tokens}x{rows}x{cols}");
            }
            let mut want = vec![0i32; tokens * rows];
            matmul_i8_portable(&x, &w, cols, &mut want);
            for t in 0..tokens {
                for o in 0..rows {
                    let plain: i32 = (0..cols)
                        .map(|i| i32::from(x[t * cols + i]) * i32::from(w[o * cols + i]))
                        .sum();
                    assert_eq!(want[t * rows + o], plain);
                }
            }
            assert_eq!(got, want, "{tokens}x{rows}x{cols}");
        }
        // The extremes: every pair of products at ±127² stays within i16.
        for (a, b) in [
            (-127i8, -127i8),
            (-127, 127),
            (127, -127),
            (127, 127),
            (-127, 0),
        ] {
            let x = vec![a; 1536];
            let w = vec![b; 1536];
            for (name, path) in matmul_paths(1536) {
                let mut got = [0i32];
                path(&x, &w, 1536, &mut got);
                assert_eq!(
                    got[0],
                    1536 * i32::from(a) * i32::from(b),
                    "{name}: {a} x {b}"
                );
            }
        }
    }

    #[test]
    fn quantisation_round_trips_within_half_a_step() {
        let x: Vec<f32> = (0..384).map(|i| ((i as f32) * 0.37).sin() * 3.0).collect();
        let mut q = vec![0i8; 384];
        let scale = quantize(&x, &mut q);
        for (v, q) in x.iter().zip(&q) {
            assert!((v - f32::from(*q) * scale).abs() <= scale / 2.0 + 1e-6);
        }
        let zeros = [0f32; 4];
        assert_eq!(quantize(&zeros, &mut q[..4]), 0.0);
    }

    #[test]
    fn erf_and_gelu_match_known_values() {
        for (x, want) in [
            (0.0, 0.0),
            (0.5, 0.520_499_9),
            (1.0, 0.842_700_8),
            (-2.0, -0.995_322_3),
        ] {
            assert!((erf(x) - want).abs() < 1e-6, "erf({x})");
        }
        let mut v = [1.0f32, -1.0, 0.0];
        gelu(&mut v);
        assert!((v[0] - 0.841_344_7).abs() < 1e-6);
        assert!((v[1] + 0.158_655_3).abs() < 1e-6);
        assert_eq!(v[2], 0.0);
    }

    #[test]
    fn exp_is_within_a_few_parts_in_ten_million() {
        let mut worst = 0f64;
        for i in 0..=20_000 {
            let x = -87.0 + f64::from(i) * (97.0 / 20_000.0);
            let got = f64::from(exp(x as f32));
            let want = (x as f32 as f64).exp();
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 5e-7, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        // Far below the range: as good as nothing, never NaN.
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn softmax_and_layer_norm_are_normalised() {
        let mut s = [1.0f32, 2.0, 3.0];
        softmax(&mut s);
        assert!((s.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(s[2] > s[1] && s[1] > s[0]);
        let mut x = [1.0f32, 2.0, 3.0, 4.0];
        layer_norm(&mut x, 4, &[1.0; 4], &[0.0; 4], 1e-12);
        assert!(x.iter().sum::<f32>().abs() < 1e-5);
        let var = x.iter().map(|v| v * v).sum::<f32>() / 4.0;
        assert!((var - 1.0).abs() < 1e-4);
    }
}
