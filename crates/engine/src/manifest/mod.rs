//! Manifest loading: files and directories of YAML documents become one
//! validated [`Desired`], or every problem found, each at its place.
//!
//! Steps: `files` finds and reads files safely, `raw` parses YAML into
//! positioned trees (the only serde-saphyr user), `convert` turns each document
//! into a typed declaration, `validate` applies AWS's and rolecall's rules
//! across all of them, `build` fills defaults and merges tags into the model.
//! `schema` describes the format as JSON Schema for editors.

mod build;
mod convert;
mod diagnostic;
mod files;
mod limits;
mod places;
mod raw;
pub mod schema;
mod tags;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use places::PolicyPlaces;

use rolecall_model::Desired;

use crate::phase;

/// A successful load: the model, the warnings worth showing, how many files were read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: Desired,
    pub warnings: Vec<Diagnostic>,
    /// Manifest files read (policy files named by `{file: ...}` not counted).
    pub files: usize,
}

/// Loads and validates the manifests under `paths` (files or directories).
/// Manifest files, walked or named, and the policy files they name
/// (`{file: ...}`, relative to their manifest) must lie inside `file_root`
/// once symlinks are followed; the command line passes the directory
/// rolecall runs in unless `--file-root` names another.
///
/// On any error, returns every diagnostic (errors and warnings) in file and line order.
pub fn load(paths: &[PathBuf], file_root: &Path) -> Result<Loaded, Diagnostics> {
    load_with(paths, file_root, None)
}

/// [`load`], also saying where each role's policies are declared (for
/// `simulate` and `lint`, which point at them; a plan does not pay for it).
pub fn load_with_policy_places(
    paths: &[PathBuf],
    file_root: &Path,
) -> Result<(Loaded, PolicyPlaces), Diagnostics> {
    let mut places = PolicyPlaces::default();
    let loaded = load_with(paths, file_root, Some(&mut places))?;
    Ok((loaded, places))
}

fn load_with(
    paths: &[PathBuf],
    file_root: &Path,
    places: Option<&mut PolicyPlaces>,
) -> Result<Loaded, Diagnostics> {
    let root = files::file_root(file_root)
        .map_err(|e| Diagnostics(vec![Diagnostic::error(None, e.message)]))?;
    let mut diagnostics = Vec::new();
    let (found, problems) = files::collect(paths);
    // A path that is not there may have declared what others refer to.
    let mut some_unread = !problems.is_empty();
    for (path, problem) in problems {
        diagnostics.push(Diagnostic::error(
            None,
            format!("`{}`: {}", path.display(), problem.message),
        ));
    }

    let mut documents = Vec::new();
    for file in read_all(&found, &root) {
        documents.extend(file.documents);
        diagnostics.extend(file.diagnostics);
        some_unread |= file.some_unread;
    }
    phase::timed("validate", || {
        validate::check(&documents, some_unread, &mut diagnostics)
    });

    sort(&mut diagnostics, &found);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diagnostics));
    }
    Ok(Loaded {
        desired: phase::timed("build", || build::desired(documents, places)),
        warnings: diagnostics,
        files: found.len(),
    })
}

/// What one file yields: its declarations and what went wrong in it.
struct FileResult {
    documents: Vec<convert::Document>,
    diagnostics: Vec<Diagnostic>,
    /// Whether the file or one of its documents could not be read (a YAML
    /// error, no usable `kind` or name): what it declares is unknown.
    some_unread: bool,
}

impl FileResult {
    fn unread(diagnostic: Diagnostic) -> Self {
        FileResult {
            documents: Vec::new(),
            diagnostics: vec![diagnostic],
            some_unread: true,
        }
    }
}

/// Time spent reading, parsing and converting files, summed over workers.
#[derive(Debug, Default)]
struct FileTimes {
    read: phase::Summed,
    parse: phase::Summed,
    convert: phase::Summed,
}

/// Reads, parses and converts every file, several at a time: files are
/// independent and parsing is most of the work of a large stack. Results come
/// back in file order, whichever worker read them. Workers get the stack the
/// YAML parser needs.
fn read_all(paths: &[PathBuf], root: &Path) -> Vec<FileResult> {
    let started = std::time::Instant::now();
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(paths.len());
    let next = AtomicUsize::new(0);
    let times = FileTimes::default();
    // Each worker takes the next unread file until none is left.
    let work = || {
        let mut done = Vec::new();
        while let Some(path) = paths.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((path, read_file(path, root, &times)));
        }
        done
    };
    let mut by_path: HashMap<&Path, FileResult> = HashMap::new();
    std::thread::scope(|scope| {
        let started: Vec<_> = (0..workers)
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("manifest".into())
                    .stack_size(raw::PARSER_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        for handle in started {
            // A worker only panics on a bug, never on input; its files are then
            // reported below as not read.
            if let Ok(done) = handle.join() {
                by_path.extend(
                    done.into_iter()
                        .map(|(path, result)| (path.as_path(), result)),
                );
            }
        }
    });
    phase::log("read (summed over workers)", times.read.total());
    phase::log("parse (summed over workers)", times.parse.total());
    phase::log("convert (summed over workers)", times.convert.total());
    phase::log(
        &format!("read, parse and convert ({workers} workers)"),
        started.elapsed(),
    );
    paths
        .iter()
        .map(|path| {
            by_path.remove(path.as_path()).unwrap_or_else(|| {
                let message = format!("`{}`: could not be read (internal error)", path.display());
                FileResult::unread(Diagnostic::error(None, message))
            })
        })
        .collect()
}

/// Reads, parses and converts one manifest file, reporting what goes wrong.
fn read_file(path: &Path, root: &Path, times: &FileTimes) -> FileResult {
    let mut diagnostics = Vec::new();
    let file: Arc<str> = path.display().to_string().into();
    let at = |pos: Option<raw::Pos>| {
        Some(diagnostic::location(
            &file,
            pos.unwrap_or(raw::Pos { line: 1, column: 1 }),
        ))
    };
    // Read through the real path, the one found inside the root. Outside it,
    // the file is named but not read, so nothing of it is ever quoted.
    let real = match files::confine(path, root) {
        Ok(real) => real,
        Err(e) => {
            let mut diagnostic =
                Diagnostic::error(None, format!("`{}`: {}", path.display(), e.message));
            diagnostic.help = e.help;
            return FileResult::unread(diagnostic);
        }
    };
    let text = match times
        .read
        .time(|| files::read_text(&real, files::MAX_MANIFEST_BYTES))
    {
        Ok(text) => text,
        Err(e) => {
            let mut diagnostic = Diagnostic::error(at(e.pos), e.message);
            diagnostic.help = e.help;
            return FileResult::unread(diagnostic);
        }
    };
    let parsed = times.parse.time(|| raw::parse_file(&text));
    let some_unread = !parsed.errors.is_empty();
    for error in parsed.errors {
        let mut diagnostic = Diagnostic::error(at(error.pos), error.message);
        if let Some(help) = error.help {
            diagnostic = diagnostic.with_help(help);
        }
        diagnostics.push(diagnostic);
    }
    if parsed.documents.is_empty() && diagnostics.is_empty() {
        // Most likely a file emptied by mistake, or not the file meant.
        diagnostics.push(
            Diagnostic::error(at(None), "the file holds no YAML documents")
                .with_help("a manifest declares at least one document with a `kind`; remove the file if it is not needed"),
        );
        return FileResult {
            documents: Vec::new(),
            diagnostics,
            some_unread,
        };
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut ctx = convert::Ctx::new(file.clone(), dir, root, &mut diagnostics);
    let documents: Vec<_> = times.convert.time(|| {
        parsed
            .documents
            .iter()
            .filter_map(|document| convert::document(document, &mut ctx))
            .collect()
    });
    FileResult {
        some_unread: some_unread || documents.len() < parsed.documents.len(),
        documents,
        diagnostics,
    }
}

/// File load order, then line and column; diagnostics without a place first.
fn sort(diagnostics: &mut [Diagnostic], files: &[PathBuf]) {
    let order: HashMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, path)| (path.display().to_string(), i))
        .collect();
    diagnostics.sort_by_key(|d| {
        d.location.as_ref().map(|l| {
            (
                order.get(&*l.file).copied().unwrap_or(usize::MAX),
                l.line,
                l.column,
            )
        })
    });
}
