//! Finding manifest files and reading them safely.
//!
//! `-f` paths are taken in the order given; directories are walked
//! recursively in sorted order for `*.yaml` / `*.yml`. Entries whose name starts
//! with `.` are skipped (`.git`, editor swap files) and symlinked directories are
//! not followed, so a link loop cannot make the walk endless. Only regular
//! files are read: a named pipe would block forever and `/dev/zero` never ends.
//! Reading caps the size and refuses binary or non-UTF-8 content before the
//! YAML parser sees it. Manifest files and policy files (`{file: ...}`) must
//! also lie inside the file root once symlinks are followed, so a symlink in
//! a pull request cannot make rolecall read, and a plan show, a file from
//! elsewhere on the machine.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::raw::{self, Pos};
use rolecall_model::user_file::kind_of;

/// Largest manifest file read. The benchmark's generated files of 5,000
/// documents are about 2 MiB; a 100 MB file is refused, not parsed. (The
/// parser's budget of values, not this cap, bounds the parse time.)
pub const MAX_MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
/// Largest policy file (`{file: ...}`): IAM documents are at most 131,072 characters.
pub const MAX_POLICY_BYTES: u64 = 1024 * 1024;

/// Why a path could not be used, with the place in the file when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub message: String,
    pub pos: Option<Pos>,
    pub help: Option<String>,
}

impl ReadError {
    fn new(message: String) -> Self {
        ReadError {
            message,
            pos: None,
            help: None,
        }
    }

    fn at(message: String, pos: Pos) -> Self {
        ReadError {
            pos: Some(pos),
            ..ReadError::new(message)
        }
    }
}

/// Every manifest file under `paths`, in load order, without repeats.
/// Paths that cannot be used come back as errors, each with the path as given.
pub fn collect(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<(PathBuf, ReadError)>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) => problems.push((path.clone(), ReadError::new(format!("cannot read: {e}")))),
            Ok(meta) if meta.is_dir() => {
                let before = found.len();
                if let Err(e) = walk(path, &mut found) {
                    problems.push((path.clone(), ReadError::new(format!("cannot list: {e}"))));
                } else if found.len() == before {
                    problems.push((
                        path.clone(),
                        ReadError::new("no *.yaml or *.yml files in this directory".into()),
                    ));
                }
            }
            // A file named explicitly is read whatever its extension.
            Ok(meta) if meta.is_file() => found.push(path.clone()),
            Ok(meta) => problems.push((
                path.clone(),
                ReadError::new(format!(
                    "not a regular file or a directory (it is {})",
                    kind_of(&meta.file_type())
                )),
            )),
        }
    }
    // `-f manifests -f manifests/web.yaml` must not declare everything in web.yaml twice.
    let mut seen = std::collections::HashSet::new();
    found.retain(|path| seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())));
    (found, problems)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&path, found)?;
        } else if is_manifest_name(&path) && (file_type.is_file() || is_file_link(&path)) {
            // A link is read only through `confine` (see `read_file`), which
            // also refuses one that points out of the file root, whether its
            // target exists or not.
            found.push(path);
        }
    }
    Ok(())
}

/// Whether a symlink is one a walk reads: anything but a link to a
/// directory, which is not followed (a link loop would make the walk
/// endless). A dangling link is read, and refused, like any other.
fn is_file_link(path: &Path) -> bool {
    !std::fs::metadata(path).is_ok_and(|meta| meta.is_dir())
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    )
}

/// `path` with every symlink followed, if that lies inside `root` (a
/// canonical directory, see [`file_root`]). A path that does not exist is
/// judged by its deepest ancestor that does: whether a file exists outside
/// the root is not rolecall's to tell (a pull request could probe with it).
pub fn confine(path: &Path, root: &Path) -> Result<PathBuf, ReadError> {
    confine_link(path, root, 0)
}

/// Links followed by hand at most (Linux's own limit), for dangling links.
const MAX_LINKS: usize = 40;

/// [`confine`], `links` dangling links deep.
fn confine_link(path: &Path, root: &Path, links: usize) -> Result<PathBuf, ReadError> {
    let outside = || {
        ReadError {
        help: Some(
            "manifests and policy files must lie inside the file root: the directory rolecall runs in, or the one `--file-root DIR` names"
                .into(),
        ),
        ..ReadError::new(format!(
            "resolves outside the file root `{}`",
            root.display()
        ))
    }
    };
    match std::fs::canonicalize(path) {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err(outside()),
        Err(e) => {
            // A dangling link is judged by where it points, not where it is.
            if links < MAX_LINKS
                && let Ok(target) = std::fs::read_link(path)
            {
                let base = path.parent().unwrap_or(Path::new(""));
                return confine_link(&base.join(target), root, links + 1);
            }
            let deepest = path.ancestors().skip(1).find_map(|ancestor| {
                let ancestor = if ancestor.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    ancestor
                };
                std::fs::canonicalize(ancestor).ok()
            });
            if deepest.is_some_and(|real| real.starts_with(root)) {
                Err(ReadError::new(format!("cannot read: {e}")))
            } else {
                Err(outside())
            }
        }
    }
}

/// The directory policy files must lie in, canonical (symlinks followed).
pub fn file_root(dir: &Path) -> Result<PathBuf, ReadError> {
    let what = format!("file root `{}`", dir.display());
    match std::fs::canonicalize(dir) {
        Ok(root) if root.is_dir() => Ok(root),
        Ok(_) => Err(ReadError::new(format!("{what} is not a directory"))),
        Err(e) => Err(ReadError::new(format!("{what}: cannot read: {e}"))),
    }
}

/// Reads a regular text file of at most `limit` bytes: no NUL bytes, valid UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let cannot_read = |e: std::io::Error| ReadError::new(format!("cannot read: {e}"));
    // Checked before opening: opening a named pipe blocks until someone writes to it.
    let meta = std::fs::metadata(path).map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(ReadError::new(format!(
            "not a regular file (it is {})",
            kind_of(&meta.file_type())
        )));
    }
    if meta.len() > limit {
        return Err(ReadError::new(format!(
            "file is too large ({}), the limit is {}",
            human_size(meta.len()),
            human_size(limit)
        )));
    }
    let file = std::fs::File::open(path).map_err(cannot_read)?;
    // The file may grow between the check and the read: never read past the limit.
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot_read)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::new(format!(
            "file is larger than the limit of {} (it grew while being read)",
            human_size(limit)
        )));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ReadError::at(
            "binary file (it contains a NUL byte), not text".into(),
            pos_at(&bytes, offset),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        ReadError::at(
            format!(
                "not UTF-8 text: invalid byte 0x{:02X}",
                bytes.get(offset).copied().unwrap_or_default()
            ),
            pos_at(bytes, offset),
        )
    })
}

/// Line and column (in characters) of a byte offset, counted as the YAML
/// parser counts them. Bytes before it that are not UTF-8 (possible before a
/// NUL) count as replacement characters.
fn pos_at(bytes: &[u8], offset: usize) -> Pos {
    let prefix = String::from_utf8_lossy(&bytes[..offset.min(bytes.len())]);
    raw::pos_of_byte(&prefix, prefix.len())
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_recursively_and_skips_hidden_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in [
            "b.yaml",
            "a.yml",
            "sub/c.yaml",
            "notes.txt",
            ".hidden/d.yaml",
            ".e.yaml",
        ] {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        let (found, problems) = collect(&[root.to_path_buf(), root.join("b.yaml")]);
        assert!(problems.is_empty());
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.yml", "b.yaml", "sub/c.yaml"]);
    }

    #[test]
    fn refuses_binary_and_non_utf8_with_a_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.yaml");
        std::fs::write(&path, b"a: 1\nb: \xff\n").unwrap();
        let error = read_text(&path, 1024).unwrap_err();
        assert_eq!(error.message, "not UTF-8 text: invalid byte 0xFF");
        assert_eq!(error.pos, Some(Pos { line: 2, column: 4 }));
        // Lines end as YAML ends them, a lone `\r` (old Mac files) included.
        std::fs::write(&path, b"a: 1\rb: 2\r\nc: \0").unwrap();
        let error = read_text(&path, 1024).unwrap_err();
        assert_eq!(error.pos, Some(Pos { line: 3, column: 4 }));
        std::fs::write(&path, b"a\0").unwrap();
        assert!(
            read_text(&path, 1024)
                .unwrap_err()
                .message
                .starts_with("binary file")
        );
        std::fs::write(&path, vec![b'#'; 2000]).unwrap();
        assert_eq!(
            read_text(&path, 1024).unwrap_err().message,
            "file is too large (2000 bytes), the limit is 1024 bytes"
        );
    }

    #[cfg(unix)]
    #[test]
    fn refuses_what_is_not_a_regular_file_without_opening_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.yaml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        // Opening the pipe would block this test forever.
        assert_eq!(
            read_text(&fifo, 1024).unwrap_err().message,
            "not a regular file (it is a named pipe)"
        );
        assert_eq!(
            read_text(dir.path(), 1024).unwrap_err().message,
            "not a regular file (it is a directory)"
        );
        let expected = "not a regular file or a directory (it is a named pipe)";
        let (found, problems) = collect(&[fifo.clone(), "/dev/zero".into()]);
        assert!(found.is_empty());
        let messages: Vec<_> = problems.iter().map(|(_, e)| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                expected,
                "not a regular file or a directory (it is a character device)"
            ]
        );
    }
}
