//! Model descriptions (JSON): parsed with every rule and limit, then lowered
//! to a graph, as `--model-file` and a saved model's metadata are. Neither
//! may panic, hang or allocate past the limits on any input.
#![no_main]

use googlenet_core::model::{lower, ModelSpec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(spec) = ModelSpec::parse(text) {
        // What parses must print and parse back to itself.
        assert_eq!(ModelSpec::parse(&spec.to_json()).as_ref().ok(), Some(&spec));
        let _ = lower(&spec);
    }
});
