//! Which vector instructions the CPU kernels use: the best the CPU has, or
//! less when `GOOGLENET_NATIVE_CPU` asks for less. Forcing a lower level
//! lets one machine measure every path (an AVX-512 machine times the AVX2
//! kernels most users' CPUs run). Every kernel that picks its code at run
//! time asks [`isa`], the GEMM included (`engine::gemm`).

use std::sync::OnceLock;

/// The environment variable that caps the instruction set.
pub const CPU_ENV: &str = "GOOGLENET_NATIVE_CPU";

/// Levels of x86-64 vector instructions the kernels are written for, in
/// increasing order. Other architectures always run [`Isa::Baseline`]
/// (portable code, vectorized by the compiler for the target's baseline;
/// on WebAssembly, kernels over its 128-bit vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Isa {
    /// No run-time dispatch: what the target's baseline allows (SSE2 on x86-64).
    Baseline,
    /// AVX2 with FMA (x86-64-v3: Intel since Haswell, AMD since Zen).
    Avx2,
    /// AVX-512F and VL on top of AVX2 (the GEMM's widest kernels; VL gives
    /// the 8-float kernels 32 registers). Every AVX-512 CPU since Skylake-SP
    /// and Zen 4 has both.
    Avx512,
}

impl Isa {
    /// The name `GOOGLENET_NATIVE_CPU` takes and reports print.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Baseline => "baseline",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
        }
    }

    /// Floats per vector of the engine's kernels on this level (the
    /// baseline's portable kernels are written for 8, WebAssembly's for
    /// its 128-bit vectors).
    pub fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2 => 8,
            Isa::Baseline if cfg!(target_arch = "wasm32") => 4,
            Isa::Baseline => 8,
        }
    }

    fn parse(value: &str) -> Option<Isa> {
        [Isa::Baseline, Isa::Avx2, Isa::Avx512].into_iter().find(|isa| isa.name() == value.trim().to_ascii_lowercase())
    }
}

/// The best level this CPU supports.
pub fn detected() -> Isa {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        if avx2 && std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vl") {
            return Isa::Avx512;
        }
        if avx2 {
            return Isa::Avx2;
        }
    }
    Isa::Baseline
}

/// The level asked for by `value` (the variable's content, if set), capped
/// at what the CPU has: asking for more than the CPU offers is not an
/// error, so one setting serves every machine.
pub fn select(value: Option<&str>, cpu: Isa) -> Result<Isa, String> {
    let Some(value) = value else { return Ok(cpu) };
    match Isa::parse(value) {
        Some(asked) => Ok(asked.min(cpu)),
        None => Err(format!("{CPU_ENV} must be avx512, avx2 or baseline, not {value:?}")),
    }
}

/// The variable read once per process: the level, or why its value is wrong.
fn selected() -> &'static Result<Isa, String> {
    static SELECTED: OnceLock<Result<Isa, String>> = OnceLock::new();
    SELECTED.get_or_init(|| {
        let value = std::env::var_os(CPU_ENV).map(|v| v.to_string_lossy().into_owned());
        select(value.as_deref(), detected())
    })
}

/// The level the kernels use. A wrong `GOOGLENET_NATIVE_CPU` falls back to
/// the CPU's own level here; [`check`] reports it before any work starts.
pub fn isa() -> Isa {
    match selected() {
        Ok(isa) => *isa,
        Err(_) => detected(),
    }
}

/// Whether the AVX2 kernels run (the CPU has AVX2 and FMA, and they are not
/// switched off).
#[inline]
#[cfg(target_arch = "x86_64")]
pub(crate) fn avx2() -> bool {
    isa() >= Isa::Avx2
}

/// Why `GOOGLENET_NATIVE_CPU` cannot be used, if it cannot.
pub fn check() -> Result<(), String> {
    selected().clone().map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_setting_caps_the_level_and_never_raises_it() {
        assert_eq!(select(None, Isa::Avx512), Ok(Isa::Avx512));
        assert_eq!(select(Some("avx2"), Isa::Avx512), Ok(Isa::Avx2));
        assert_eq!(select(Some(" AVX2 "), Isa::Avx512), Ok(Isa::Avx2));
        assert_eq!(select(Some("baseline"), Isa::Avx2), Ok(Isa::Baseline));
        assert_eq!(select(Some("avx512"), Isa::Avx2), Ok(Isa::Avx2));
        let wrong = select(Some("sse4"), Isa::Avx512).unwrap_err();
        assert!(wrong.contains("GOOGLENET_NATIVE_CPU") && wrong.contains("\"sse4\""), "{wrong}");
    }
}
