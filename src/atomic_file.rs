//! Writing a file a user names (a saved plan, an account export) atomically.
//!
//! atomic-write-file gives the new file the old one's mode and owner, read
//! without following a symlink: writing onto a link would give the file the
//! link's own mode, 0777, world-writable. A link is replaced by a new file
//! with the default mode (0666 less the umask); a regular file keeps its mode.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path`: readers see the old file or the whole new one,
/// fsynced.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = atomic_write_file::AtomicWriteFile::options();
    #[cfg(unix)]
    if std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        use atomic_write_file::unix::OpenOptionsExt;
        options.preserve_mode(false).preserve_owner(false);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.commit()
}
