//! The integration tests, as one test binary: each file here is a module,
//! `common` their shared helpers. One crate links once; a binary per file
//! relinked all of them whenever `common` or the library changed
//! (CONTRIBUTING.md, "Tests", has the figures).
//!
//! Run a file's tests with its module name as the filter:
//! `cargo test --release -p googlenet-core --test suite differential::`.
//!
//! The binary's global allocator is `idx_limits`'s: System's, noting each
//! thread's largest allocation, so it serves every test here unchanged.

mod common;

mod augment;
mod checkpoint;
mod class_count;
mod colour_parity;
mod custom_graphs;
mod data;
mod data_info;
mod description;
mod differential;
mod engine;
mod hostile_inputs;
mod idx_limits;
mod image;
mod image_folders;
mod label_smoothing;
mod model;
mod onnx_export;
mod ops;
mod optimizer;
mod predictor;
mod pytorch_parity;
mod resnet;
mod saved;
mod source_rules;
mod train;
mod user_files;
mod zoo_parity;
