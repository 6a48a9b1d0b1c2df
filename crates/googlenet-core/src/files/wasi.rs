//! What [`super`] needs on WASI (the WebAssembly build) that std does not
//! give there on stable Rust: opening non-blocking, and telling pipes and
//! devices apart. Both go through wasi-libc, as std does.
//!
//! Node's WASI (uvwasi) reports a named pipe as a stream socket, as it does
//! a socket; what tells them apart is that a named pipe opens (non-blocking,
//! at once) and a socket cannot be opened at all (`ENXIO`).

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::FromRawFd;
use std::path::Path;

/// `path` as a C string for wasi-libc.
fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_encoded_bytes()).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
}

/// Opens `path` for reading with `O_NONBLOCK`, which std's WASI options
/// cannot ask for: a named pipe opened without it waits for a writer,
/// holding the thread (the main one, for a synchronous load) for good.
pub(super) fn open_nonblocking(path: &Path) -> io::Result<File> {
    let c = c_path(path)?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_NONBLOCK) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// What the file at `path` (links followed) is, when it is a device, a
/// named pipe or a socket, in the words the native build uses; `None` where
/// WASI does not say (it has no type for a block device, for one).
pub(super) fn special_kind(path: &Path) -> Option<&'static str> {
    let c = c_path(path).ok()?;
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `c` is NUL-terminated; `stat` is written when the call returns 0.
    if unsafe { libc::stat(c.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: stat returned 0, so it filled the buffer.
    match unsafe { stat.assume_init() }.st_mode & libc::S_IFMT {
        libc::S_IFCHR => Some("a character device"),
        libc::S_IFBLK => Some("a block device"),
        libc::S_IFIFO => Some("a named pipe"),
        libc::S_IFSOCK => Some(pipe_or_socket(path)),
        _ => None,
    }
}

/// A "stream socket" of uvwasi's, told apart by opening it (see the module).
fn pipe_or_socket(path: &Path) -> &'static str {
    match open_nonblocking(path) {
        Ok(_) => "a named pipe",
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => "a socket",
        Err(_) => "a named pipe or a socket",
    }
}
