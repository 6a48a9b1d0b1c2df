//! Process-wide settings of the CPU backend.

/// candle 0.11 runs large element-wise ops on a spinning barrier pool of
/// (threads − 1) workers beside its rayon pools. On small machines the
/// spinners fight the GEMM threads for cores (a third of all samples were
/// spin-waits on 2 cores), so unless the user chose otherwise we run those
/// ops inline and leave the cores to the GEMMs. Must run before the first
/// tensor op, which reads the variable once.
pub fn configure_cpu_threads() {
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        // Called at start-up, before this library has started any thread.
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}
