//! Files a user names outside the manifests (a saved plan, an account
//! export, a `file://` argument): read only when regular, written
//! atomically. `kind_of` names what a file that is not regular is, for these
//! messages and the account lock's.
//!
//! Writing: atomic-write-file gives the new file the old one's mode and
//! owner, read without following a symlink: writing onto a link would give
//! the file the link's own mode, 0777, world-writable. A link is replaced by
//! a new file with the default mode (0666 less the umask); a regular file
//! keeps its mode.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path`: readers see the old file or the whole new one,
/// fsynced.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |file| file.write_all(bytes))
}

/// [`write`] of what `write_bytes` writes, through a buffer: a large file
/// (a saved plan of 100,000 roles is 853 million bytes) is streamed, not
/// held whole in memory first. If `write_bytes` fails, the file at `path`
/// is left as it was.
pub fn write_with(
    path: &Path,
    write_bytes: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut options = atomic_write_file::AtomicWriteFile::options();
    #[cfg(unix)]
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        use atomic_write_file::unix::OpenOptionsExt;
        options.preserve_mode(false).preserve_owner(false);
    }
    let mut file = std::io::BufWriter::with_capacity(1 << 16, options.open(path)?);
    write_bytes(&mut file)?;
    // Dropped uncommitted (on an error above), the new file is removed.
    file.into_inner().map_err(|e| e.into_error())?.commit()
}

/// What a file that is not a regular file is, for messages.
#[cfg(unix)]
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// What a file that is not a regular file is, for messages.
#[cfg(not(unix))]
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// `std::fs::read_to_string` for any other file a user names (a saved plan,
/// an account export, a `file://` argument): a regular file only, checked
/// before opening, so a named pipe cannot block rolecall nor `/dev/zero`
/// fill its memory, and a directory is "not a regular file".
pub fn read_regular_file(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("not a regular file (it is {})", kind_of(&meta.file_type())),
        ));
    }
    std::fs::read_to_string(path)
}
