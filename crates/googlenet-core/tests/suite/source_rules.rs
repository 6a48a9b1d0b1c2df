//! Rules about the workspace's own source that keep it honest as it grows:
//! every `unsafe` says why it is sound, and every way into the Node binding
//! turns a panic into a JS error instead of aborting Node. They live here
//! because `npm run test:rust` runs this crate's tests (the binding is a
//! cdylib, with none of its own).

use std::fs;
use std::path::{Path, PathBuf};

/// How many lines above an `unsafe` its `SAFETY:` comment may be, unless
/// it is in the comment block right above.
const SAFETY_REACH: usize = 3;

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the crate lives in crates/").to_path_buf()
}

/// Every `.rs` file under `dir`, build output left out.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                files.extend(rust_files(&path));
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// Each line's code: comments dropped and string and char literals emptied,
/// so a word in a message or a comment is not taken for a keyword.
fn code_lines(source: &str) -> Vec<String> {
    let (mut in_string, mut in_block_comment) = (false, false);
    source
        .lines()
        .map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let mut code = String::new();
            let mut i = 0;
            while i < chars.len() {
                let (c, next) = (chars[i], chars.get(i + 1).copied());
                if in_block_comment {
                    if c == '*' && next == Some('/') {
                        in_block_comment = false;
                        i += 1;
                    }
                } else if in_string {
                    match c {
                        '\\' => i += 1,
                        '"' => in_string = false,
                        _ => {}
                    }
                } else if c == '/' && next == Some('/') {
                    break;
                } else if c == '/' && next == Some('*') {
                    in_block_comment = true;
                    i += 1;
                } else if c == '"' {
                    in_string = true;
                } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
                    i += 2;
                } else if c == '\'' && next == Some('\\') {
                    i += chars[i + 1..].iter().position(|&c| c == '\'').unwrap_or(0) + 1;
                } else {
                    code.push(c);
                }
                i += 1;
            }
            code
        })
        .collect()
}

fn has_word(code: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    code.match_indices(word).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// The lines right above line `at` that start with one of `prefixes`.
fn block_above<'a>(lines: &[&'a str], at: usize, prefixes: &[&str]) -> Vec<&'a str> {
    lines[..at].iter().rev().map(|l| l.trim()).take_while(|l| prefixes.iter().any(|p| l.starts_with(p))).collect()
}

#[test]
fn every_unsafe_says_why_it_is_sound() {
    let mut missing = Vec::new();
    for file in rust_files(&crates_dir()) {
        let source = fs::read_to_string(&file).expect("a readable source file");
        let lines: Vec<&str> = source.lines().collect();
        for (at, code) in code_lines(&source).iter().enumerate() {
            if !has_word(code, "unsafe") {
                continue;
            }
            let commented = lines[at.saturating_sub(SAFETY_REACH)..=at].iter().any(|l| l.contains("SAFETY:"))
                || block_above(&lines, at, &["//"]).iter().any(|l| l.contains("SAFETY:"));
            // An unsafe fn states its contract for callers instead.
            let contract = has_word(code, "fn") && block_above(&lines, at, &["///", "#["]).iter().any(|l| l.contains("# Safety"));
            if !commented && !contract {
                missing.push(format!("{}:{}: {}", file.display(), at + 1, lines[at].trim()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "each unsafe block or impl needs a `// SAFETY:` comment right above it (or within {SAFETY_REACH} lines), and each \
         unsafe fn a `# Safety` section, saying why it is sound:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_napi_entry_point_turns_panics_into_errors() {
    let mut missing = Vec::new();
    for file in rust_files(&crates_dir().join("googlenet-node").join("src")) {
        let source = fs::read_to_string(&file).expect("a readable source file");
        let lines: Vec<&str> = source.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let line = line.trim();
            let item = lines[at + 1..].iter().map(|l| l.trim()).find(|l| !l.starts_with("///") && !l.starts_with("#["));
            let exported_fn = (line.starts_with("#[napi]") || line.starts_with("#[napi("))
                && item.is_some_and(|item| item.starts_with("fn ") || item.contains(" fn "));
            // napi-rs calls a task's compute and resolve from extern "C"
            // callbacks, where a panic aborts the process.
            let task_fn = line.starts_with("fn compute(") || line.starts_with("fn resolve(");
            let task_fn_caught = lines.get(at + 1).is_some_and(|body| {
                let body = body.trim();
                body.starts_with("guarded(") || body.starts_with("caught(")
            });
            if (exported_fn && !line.contains("catch_unwind")) || (task_fn && !task_fn_caught) {
                missing.push(format!("{}:{}: {line}", file.display(), at + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "#[napi] functions need `catch_unwind` in their attribute, and a task's compute and resolve must run their body \
         under `guarded` or `caught` (crates/googlenet-node/src/errors.rs):\n{}",
        missing.join("\n")
    );
}
