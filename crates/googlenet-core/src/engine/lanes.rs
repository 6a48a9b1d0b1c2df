//! One vector of f32 lanes per instruction set, so a kernel is written once
//! and compiled for each (see `direct.rs`): AVX-512's 16 lanes in 32
//! registers, AVX2's 8 in 16, WebAssembly's 128-bit vectors (4 lanes, see
//! [`Simd128`]), and 8 plain floats that the compiler vectorizes for the
//! target's baseline elsewhere (SSE2, NEON).

/// A vector of [`Lanes::N`] floats.
///
/// Every method is `unsafe`: the caller runs on a CPU with the type's
/// instruction set, and the pointers given are valid for `N` floats.
pub(crate) trait Lanes: Copy {
    /// Floats per vector.
    const N: usize;
    /// Vector registers the instruction set has: kernels size their tiles
    /// so that accumulators and operands fit without spilling.
    const REGISTERS: usize;

    /// # Safety
    /// The CPU has the type's instruction set.
    unsafe fn zero() -> Self;
    /// # Safety
    /// As [`Lanes::zero`], and `N` floats are readable at `p`.
    unsafe fn load(p: *const f32) -> Self;
    /// The float at `p` in every lane.
    ///
    /// # Safety
    /// As [`Lanes::zero`], and `p` is readable.
    unsafe fn splat(p: *const f32) -> Self;
    /// The two floats at `p`, alternating: lane 2j holds the first and
    /// lane 2j + 1 the second (one 64-bit broadcast).
    ///
    /// # Safety
    /// As [`Lanes::zero`], and 2 floats are readable at `p`.
    unsafe fn splat_pair(p: *const f32) -> Self;
    /// [`Lanes::splat`] for `I` = 1, [`Lanes::splat_pair`] for `I` = 2.
    ///
    /// # Safety
    /// As theirs.
    #[inline(always)]
    unsafe fn splat_group<const I: usize>(p: *const f32) -> Self {
        // SAFETY: as the caller guarantees for the one chosen.
        unsafe {
            if I == 1 {
                Self::splat(p)
            } else {
                Self::splat_pair(p)
            }
        }
    }
    /// # Safety
    /// As [`Lanes::zero`], and `N` floats are writable at `p`.
    unsafe fn store(self, p: *mut f32);
    /// Stores the first `count` lanes (1 ..= N) only: the end of a row.
    ///
    /// # Safety
    /// As [`Lanes::zero`], and `count` floats are writable at `p`.
    unsafe fn store_first(self, p: *mut f32, count: usize);
    /// `self + a·b`, lane by lane (fused where the instruction set has it).
    ///
    /// # Safety
    /// As [`Lanes::zero`].
    unsafe fn mul_add(self, a: Self, b: Self) -> Self;
    /// # Safety
    /// As [`Lanes::zero`].
    unsafe fn add(self, other: Self) -> Self;
}

/// A kernel written once over [`Lanes`], run by [`run_on`] with the
/// vectors of an instruction set.
pub(crate) trait Kernel {
    /// Runs the kernel into `out` with vectors `L`; `#[inline(always)]` in
    /// every implementation, so it is compiled into [`run_on`]'s copies.
    ///
    /// # Safety
    /// The CPU has `L`'s instruction set, and the kernel's buffers and
    /// `out` hold every element it reads and writes.
    unsafe fn run<L: Lanes>(&self, out: &mut [f32]);
}

/// Runs `kernel` with the vectors of `isa`: AVX-512's, AVX2's, or the
/// baseline's (WebAssembly's `v128`, plain floats elsewhere).
///
/// # Safety
/// `isa` is at most what the CPU has ([`crate::cpu::isa`], or a test's
/// choice below [`crate::cpu::detected`]), and the kernel's buffers and
/// `out` hold every element it reads and writes.
pub(crate) unsafe fn run_on<K: Kernel>(isa: crate::cpu::Isa, kernel: &K, out: &mut [f32]) {
    match isa {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX-512F (the caller's guarantee).
        crate::cpu::Isa::Avx512 => unsafe { x86::run_avx512(kernel, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the CPU has AVX2 and FMA (the caller's guarantee).
        crate::cpu::Isa::Avx2 => unsafe { x86::run_avx2(kernel, out) },
        #[cfg(target_arch = "wasm32")]
        // SAFETY: the module is built with simd128 (scripts/build-wasm.sh),
        // so whatever runs it has it; the caller vouches for the buffers.
        _ => unsafe { kernel.run::<Simd128>(out) },
        #[cfg(not(target_arch = "wasm32"))]
        // SAFETY: plain floats need no instruction set; the caller vouches for the buffers.
        _ => unsafe { kernel.run::<Plain>(out) },
    }
}

/// 8 floats with no intrinsics: the portable path.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Copy)]
pub(crate) struct Plain([f32; 8]);

#[cfg(not(target_arch = "wasm32"))]
impl Lanes for Plain {
    const N: usize = 8;
    const REGISTERS: usize = 16;

    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn zero() -> Self {
        Plain([0.0; 8])
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 8 readable floats at `p`.
        Plain(unsafe { std::ptr::read_unaligned(p as *const [f32; 8]) })
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> Self {
        // SAFETY: the caller guarantees `p` is readable.
        Plain([unsafe { *p }; 8])
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn splat_pair(p: *const f32) -> Self {
        // SAFETY: the caller guarantees 2 readable floats at `p`.
        let (a, b) = unsafe { (*p, *p.add(1)) };
        Plain([a, b, a, b, a, b, a, b])
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        // SAFETY: the caller guarantees 8 writable floats at `p`.
        unsafe { std::ptr::write_unaligned(p as *mut [f32; 8], self.0) }
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn store_first(self, p: *mut f32, count: usize) {
        // SAFETY: the caller guarantees `count` ≤ 8 writable floats at `p`.
        unsafe { std::ptr::copy_nonoverlapping(self.0.as_ptr(), p, count.min(8)) }
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn mul_add(self, a: Self, b: Self) -> Self {
        let mut out = self.0;
        out.iter_mut().zip(a.0.iter().zip(&b.0)).for_each(|(o, (a, b))| *o += a * b);
        Plain(out)
    }
    /// # Safety
    /// The trait's contract.
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        let mut out = self.0;
        out.iter_mut().zip(&other.0).for_each(|(o, b)| *o += b);
        Plain(out)
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::{Ymm, Zmm};

#[cfg(target_arch = "wasm32")]
pub(crate) use wasm::Simd128;

/// WebAssembly's vectors. [`Plain`]'s 8 floats were written for x86's
/// registers: on wasm each was two `v128`s, and the kernels' tiles, sized
/// for 16 such vectors, held twice as many values as the engine's
/// registers and spilled (see docs/browser.md for the profile).
#[cfg(target_arch = "wasm32")]
mod wasm {
    use core::arch::wasm32::*;

    use super::Lanes;

    /// 4 floats in one `v128`.
    #[derive(Clone, Copy)]
    pub(crate) struct Simd128(v128);

    // SAFETY (every block below): the module is built with simd128 (a
    // build without it does not validate, so never runs), and the caller
    // guarantees that the pointers cover the floats read or written (the
    // trait's contract); wasm's loads and stores take any alignment.
    impl Lanes for Simd128 {
        const N: usize = 4;
        /// V8, which runs the page in Chromium and Node's fallback, gives
        /// wasm code 15 of x64's 16 vector registers (xmm15 is its
        /// scratch); without relaxed SIMD a multiply-add is a multiply into
        /// one more register, then an add.
        const REGISTERS: usize = if cfg!(target_feature = "relaxed-simd") { 15 } else { 14 };

        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn zero() -> Self {
            Simd128(f32x4_splat(0.0))
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            // SAFETY: see above.
            Simd128(unsafe { v128_load(p as *const v128) })
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn splat(p: *const f32) -> Self {
            // SAFETY: see above (one 32-bit load, splatted).
            Simd128(unsafe { v128_load32_splat(p as *const u32) })
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn splat_pair(p: *const f32) -> Self {
            // SAFETY: see above (one 64-bit load, splatted).
            Simd128(unsafe { v128_load64_splat(p as *const u64) })
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            // SAFETY: see above.
            unsafe { v128_store(p as *mut v128, self.0) }
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn store_first(self, p: *mut f32, count: usize) {
            // SAFETY: see above; each store writes lanes below `count` only.
            unsafe {
                match count {
                    4.. => v128_store(p as *mut v128, self.0),
                    3 => {
                        v128_store64_lane::<0>(self.0, p as *mut u64);
                        v128_store32_lane::<2>(self.0, p.add(2) as *mut u32);
                    }
                    2 => v128_store64_lane::<0>(self.0, p as *mut u64),
                    _ => v128_store32_lane::<0>(self.0, p as *mut u32),
                }
            }
        }
        /// Relaxed SIMD's multiply-add where the module is built with it
        /// (the second module, scripts/build-wasm.sh): fused where the CPU
        /// has FMA, which V8 then emits, else a multiply and an add; either
        /// rounding is within the parity tests' tolerances.
        ///
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn mul_add(self, a: Self, b: Self) -> Self {
            #[cfg(target_feature = "relaxed-simd")]
            return Simd128(f32x4_relaxed_madd(a.0, b.0, self.0));
            #[cfg(not(target_feature = "relaxed-simd"))]
            return Simd128(f32x4_add(self.0, f32x4_mul(a.0, b.0)));
        }
        /// # Safety
        /// The trait's contract.
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            Simd128(f32x4_add(self.0, other.0))
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Kernel, Lanes};

    /// # Safety
    /// The CPU has AVX-512F, AVX2 and FMA; as [`Kernel::run`]'s otherwise.
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) unsafe fn run_avx512<K: Kernel>(kernel: &K, out: &mut [f32]) {
        // SAFETY: AVX-512F, this function's; the caller vouches for the buffers.
        unsafe { kernel.run::<Zmm>(out) }
    }

    /// # Safety
    /// The CPU has AVX2 and FMA; as [`Kernel::run`]'s otherwise.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn run_avx2<K: Kernel>(kernel: &K, out: &mut [f32]) {
        // SAFETY: AVX2 and FMA, this function's; the caller vouches for the buffers.
        unsafe { kernel.run::<Ymm>(out) }
    }

    /// AVX2 and FMA: 8 floats.
    #[derive(Clone, Copy)]
    pub(crate) struct Ymm(__m256);

    /// AVX-512F: 16 floats.
    #[derive(Clone, Copy)]
    pub(crate) struct Zmm(__m512);

    /// # Safety
    /// The CPU has AVX2; `count` (≤ 8) floats are writable at `p`.
    #[inline(always)]
    unsafe fn store_first_avx2(p: *mut f32, v: __m256, count: usize) {
        // SAFETY: as the caller guarantees; lanes at or past `count` are masked off.
        unsafe {
            let mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(count as i32), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            _mm256_maskstore_ps(p, mask, v)
        }
    }

    /// # Safety
    /// The CPU has AVX-512F; `count` (≤ 16) floats are writable at `p`.
    #[inline(always)]
    unsafe fn store_first_avx512(p: *mut f32, v: __m512, count: usize) {
        // SAFETY: as the caller guarantees; lanes at or past `count` are masked off.
        unsafe { _mm512_mask_storeu_ps(p, ((1u32 << count.min(16)) - 1) as __mmask16, v) }
    }

    /// Implements [`Lanes`] for `$name` (a vector of `$n` floats among
    /// `$registers` registers) with its instruction set's intrinsics.
    macro_rules! impl_lanes {
        ($name:ident, $n:literal, $registers:literal, $zero:ident, $load:ident, $set1:ident, $store:ident, $store_first:ident, $fmadd:ident, $add:ident, $cast:ident, $set1_pd:ident) => {
            // SAFETY (every block below): the caller guarantees the CPU has
            // the type's instruction set and that the pointers cover the
            // floats read or written (the trait's contract).
            impl Lanes for $name {
                const N: usize = $n;
                const REGISTERS: usize = $registers;

                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn zero() -> Self {
                    // SAFETY: see above.
                    $name(unsafe { $zero() })
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn load(p: *const f32) -> Self {
                    // SAFETY: see above.
                    $name(unsafe { $load(p) })
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn splat(p: *const f32) -> Self {
                    // SAFETY: see above (one broadcast from memory).
                    $name(unsafe { $set1(*p) })
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn splat_pair(p: *const f32) -> Self {
                    // SAFETY: see above; an unaligned 8-byte read.
                    $name(unsafe { $cast($set1_pd(std::ptr::read_unaligned(p as *const f64))) })
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn store(self, p: *mut f32) {
                    // SAFETY: see above.
                    unsafe { $store(p, self.0) }
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn store_first(self, p: *mut f32, count: usize) {
                    // SAFETY: see above; a masked store writes nothing past `count`.
                    unsafe { $store_first(p, self.0, count) }
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn mul_add(self, a: Self, b: Self) -> Self {
                    // SAFETY: see above.
                    $name(unsafe { $fmadd(a.0, b.0, self.0) })
                }
                /// # Safety
                /// The trait's contract.
                #[inline(always)]
                unsafe fn add(self, other: Self) -> Self {
                    // SAFETY: see above.
                    $name(unsafe { $add(self.0, other.0) })
                }
            }
        };
    }

    impl_lanes!(
        Ymm,
        8,
        16,
        _mm256_setzero_ps,
        _mm256_loadu_ps,
        _mm256_set1_ps,
        _mm256_storeu_ps,
        store_first_avx2,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        _mm256_castpd_ps,
        _mm256_set1_pd
    );
    impl_lanes!(
        Zmm,
        16,
        32,
        _mm512_setzero_ps,
        _mm512_loadu_ps,
        _mm512_set1_ps,
        _mm512_storeu_ps,
        store_first_avx512,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        _mm512_castpd_ps,
        _mm512_set1_pd
    );
}
