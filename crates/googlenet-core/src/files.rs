//! The one way in and out for every file a user names: data, model,
//! checkpoint and image files are opened by [`open_regular`] (or read by
//! [`read_regular`]), and model files, checkpoints and reports are written by
//! [`write_atomically`].
//!
//! Reading: only regular files are read. A directory, a named pipe, a device
//! (`/dev/zero`), a socket, a dangling symbolic link or a link loop is
//! refused with an error that says what it is, before a byte is read (a
//! named pipe is opened non-blocking, so it cannot hang us), and a file is
//! refused by its size, not after reading it, when it is larger than its kind
//! may be. The WebAssembly build does the same through WASI (`files/wasi.rs`
//! says what differs there).
//!
//! Writing: a symbolic link is followed to the file it names, which is then
//! replaced atomically (written beside it and renamed over it); a target that
//! exists and is not a regular file (`/dev/null`, a named pipe, a folder) is
//! refused, never replaced. [`check_output_path`] runs the same checks, and
//! tries to create a file where the output will go, so a command can refuse
//! a bad path before it starts work. Temporary files left by a killed writer
//! are removed by the next write beside them.

use std::fs::{File, FileType, Metadata, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{Error, Result};

/// Symbolic links followed before a path counts as a loop (Linux's own limit).
const MAX_LINKS: usize = 40;

#[cfg(target_os = "wasi")]
mod wasi;

/// What the file at `path`, of type `file_type`, is when it is no regular
/// file, in words ("a directory"), where the platform tells.
fn describe(path: &Path, file_type: FileType) -> Option<&'static str> {
    if file_type.is_dir() {
        return Some("a directory");
    }
    if file_type.is_symlink() {
        return Some("a symbolic link");
    }
    special_kind(path, file_type)
}

/// What a file that is no regular file, folder or link is ("a named pipe").
#[cfg(unix)]
fn special_kind(_path: &Path, file_type: FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        return Some("a named pipe");
    }
    if file_type.is_char_device() {
        return Some("a character device");
    }
    if file_type.is_block_device() {
        return Some("a block device");
    }
    if file_type.is_socket() {
        return Some("a socket");
    }
    None
}

/// std on WASI tells only files, folders and links apart: the rest is asked by path.
#[cfg(target_os = "wasi")]
fn special_kind(path: &Path, _file_type: FileType) -> Option<&'static str> {
    wasi::special_kind(path)
}

#[cfg(not(any(unix, target_os = "wasi")))]
fn special_kind(_path: &Path, _file_type: FileType) -> Option<&'static str> {
    None
}

/// "is a named pipe, not a regular file", for the file at `path`, which
/// `metadata` describes.
fn kind_message(path: &Path, metadata: &Metadata) -> String {
    match describe(path, metadata.file_type()) {
        Some(kind) => format!("is {kind}, not a regular file"),
        None => "not a regular file".to_string(),
    }
}

/// The data error for reading `path`, which is no regular file.
fn not_regular(path: &Path, metadata: &Metadata) -> Error {
    Error::data(path, kind_message(path, metadata))
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io { path: path.to_path_buf(), source }
}

/// Why `path` could not be opened, in the user's terms where we can tell.
fn open_error(path: &Path, source: std::io::Error) -> Error {
    #[cfg(any(unix, target_os = "wasi"))]
    if source.raw_os_error() == Some(libc::ELOOP) {
        return Error::data(path, "is a symbolic link loop");
    }
    if source.kind() == ErrorKind::NotFound {
        if let Ok(link) = std::fs::read_link(path) {
            return Error::data(path, format!("is a dangling symbolic link (to {}, which does not exist)", link.display()));
        }
    }
    match std::fs::metadata(path) {
        Ok(metadata) if !metadata.is_file() => not_regular(path, &metadata),
        _ => io_error(path, source),
    }
}

/// Opens `path` for reading if it is a regular file (symbolic links
/// followed), with its length. Anything else is refused with a data error
/// that says what it is; nothing blocks, whatever `path` is.
pub fn open_regular(path: &Path) -> Result<(File, u64)> {
    let file = open_nonblocking(path).map_err(|e| open_error(path, e))?;
    let metadata = file.metadata().map_err(|e| io_error(path, e))?;
    if !metadata.is_file() {
        return Err(not_regular(path, &metadata));
    }
    Ok((file, metadata.len()))
}

/// Opens `path` for reading, non-blocking: opening a named pipe for reading
/// waits for a writer; non-blocking, it returns at once, and the caller's
/// type check refuses it. Regular files ignore the flag.
#[cfg(not(target_os = "wasi"))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    options.open(path)
}
#[cfg(target_os = "wasi")]
use wasi::open_nonblocking;

/// A byte count in words: "4 GiB", "64 MiB".
pub(crate) fn size_in_words(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else {
        format!("{} MiB", bytes >> 20)
    }
}

/// The error for a file larger than a `what` may be.
pub(crate) fn too_large(path: &Path, max_bytes: u64, what: &str) -> Error {
    Error::data(path, format!("larger than {}, too large for {what}", size_in_words(max_bytes)))
}

/// Reads the regular file at `path` whole. A file larger than `max_bytes`
/// is refused by its size, unread; `what` names its kind in that error
/// ("an image of a digit").
pub fn read_regular(path: &Path, max_bytes: u64, what: &str) -> Result<Vec<u8>> {
    let (file, len) = open_regular(path)?;
    if len > max_bytes {
        return Err(too_large(path, max_bytes, what));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    // The file may grow while it is read: one byte past the cap tells.
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(path, max_bytes, what));
    }
    Ok(bytes)
}

/// The refusal of an output path, naming it.
fn refuse(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("{}: {why}", path.display()))
}

/// The file a write to `path` replaces or creates: symbolic links followed
/// to their final target (which need not exist yet). Refuses a target that
/// exists and is not a regular file, and link loops.
fn write_target(path: &Path) -> Result<PathBuf> {
    let mut target = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&target).map_err(|e| io_error(path, e))?;
                // A relative link is relative to the folder that holds it.
                target = folder_of(&target).join(link);
            }
            Ok(m) if m.is_file() => return Ok(target),
            Ok(m) => {
                let shown = if target == path { String::new() } else { format!(" (through the link to {})", target.display()) };
                return Err(refuse(path, format!("{}{shown}: refusing to replace it", kind_message(&target, &m))));
            }
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(target),
            Err(e) => return Err(io_error(path, e)),
        }
    }
    Err(refuse(path, "is a symbolic link loop"))
}

/// The folder a file path is in ("." for a bare name).
fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// The target of a write to `path` (see [`write_target`]), whose folder
/// must exist.
fn checked_target(path: &Path) -> Result<PathBuf> {
    if path.file_name().is_none() {
        return Err(refuse(path, "names a folder, not a file"));
    }
    let target = write_target(path)?;
    let folder = folder_of(&target);
    match std::fs::metadata(folder) {
        Ok(m) if m.is_dir() => Ok(target),
        Ok(_) => Err(refuse(path, format!("{} is not a folder", folder.display()))),
        Err(e) if e.kind() == ErrorKind::NotFound => Err(refuse(path, format!("the folder {} does not exist", folder.display()))),
        Err(e) => Err(io_error(path, e)),
    }
}

/// Checks that a file can be written at `path` as [`write_atomically`]
/// writes it: the target is a regular file or absent, its folder exists,
/// and a file can be created there (not a read-only file system, not a
/// folder we may not write). Returns the file that will be written (links
/// followed). Refusals are `InvalidArgument` errors naming `path`.
pub fn check_output_path(path: &Path) -> Result<PathBuf> {
    let target = checked_target(path)?;
    let probe = temp_path(&target);
    match OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(target)
        }
        Err(e) => Err(refuse(path, format!("cannot create a file in {}: {e}", folder_of(&target).display()))),
    }
}

/// Writes `bytes` to `path` atomically: to a temporary file beside the
/// target, flushed to disk and renamed over it, so a crash never leaves half
/// a file and a failed write leaves the old one. Symbolic links are followed
/// (the file they name is replaced, the link stays); a target that is not a
/// regular file is refused. Returns the file written. Errors name `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let target = checked_target(path)?;
    remove_stale_temps(&target);
    let temp = temp_path(&target);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(|e| io_error(path, e))?;
    Ok(target)
}

/// Distinguishes the temporary files of one process's writes.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// `.NAME.PID.N.tmp` beside `target`: hidden, and naming the process that
/// writes it, so a later write can tell when that process is gone.
fn temp_path(target: &Path) -> PathBuf {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    folder_of(target).join(format!(".{name}.{}.{n}.tmp", process_id().unwrap_or(0)))
}

/// This process's id: the system's, or on WebAssembly, where WASI has none
/// (`std::process::id` panics there), the Node.js host's, which the
/// TypeScript loader passes in `GOOGLENET_NATIVE_HOST_PID`.
fn process_id() -> Option<u32> {
    #[cfg(not(target_family = "wasm"))]
    return Some(std::process::id());
    #[cfg(target_family = "wasm")]
    return std::env::var("GOOGLENET_NATIVE_HOST_PID").ok()?.parse().ok();
}

/// The process id in a temporary file name of [`temp_path`] for `name`
/// (also in the names earlier versions used: `.NAME.PID.tmp`, and
/// `.NAME.PID.HEX.tmp` for reports).
fn temp_owner(file_name: &str, name: &str) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_prefix(name)?.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (pid, n) = rest.split_once('.').unwrap_or((rest, "0"));
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporary files beside `target` whose writer has died (a
/// save killed mid-way). Only where `/proc` tells which processes live.
fn remove_stale_temps(target: &Path) {
    let proc = Path::new("/proc");
    let Some(me) = process_id() else { return };
    if !proc.join("self").exists() {
        return;
    }
    let Some(name) = target.file_name().and_then(|n| n.to_str()) else { return };
    let Ok(entries) = std::fs::read_dir(folder_of(target)) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|f| temp_owner(f, name)) else { continue };
        if pid != me && !proc.join(pid.to_string()).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_carry_the_writer() {
        let temp = temp_path(Path::new("/x/model.safetensors"));
        let file_name = temp.file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_owner(file_name, "model.safetensors"), Some(std::process::id()));
        assert_eq!(temp_owner(".model.safetensors.12.tmp", "model.safetensors"), Some(12), "the name without a counter");
        assert_eq!(temp_owner(".report.html.12.9fa3.tmp", "report.html"), Some(12), "a report's name");
        assert_eq!(temp_owner(".model.safetensors.x.0.tmp", "model.safetensors"), None);
        assert_eq!(temp_owner(".other.safetensors.12.0.tmp", "model.safetensors"), None);
    }

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_in_words(4 << 30), "4 GiB");
        assert_eq!(size_in_words(64 << 20), "64 MiB");
    }
}
