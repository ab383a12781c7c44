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
mod raw;
pub mod schema;
mod validate;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};

use crate::model::{Desired, Location};

/// A successful load: the model, the warnings worth showing, how many files were read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub desired: Desired,
    pub warnings: Vec<Diagnostic>,
    /// Manifest files read (policy files named by `{file: ...}` not counted).
    pub files: usize,
}

/// Loads and validates the manifests under `paths` (files or directories).
///
/// On any error, returns every diagnostic (errors and warnings) in file and line order.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, Diagnostics> {
    let mut diagnostics = Vec::new();
    let (found, problems) = files::collect(paths);
    for (path, problem) in problems {
        diagnostics.push(Diagnostic::error(
            None,
            format!("`{}`: {}", path.display(), problem.message),
        ));
    }

    let mut documents = Vec::new();
    for path in &found {
        read_file(path, &mut documents, &mut diagnostics);
    }
    validate::check(&documents, &mut diagnostics);

    sort(&mut diagnostics, &found);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diagnostics));
    }
    Ok(Loaded {
        desired: build::desired(&documents),
        warnings: diagnostics,
        files: found.len(),
    })
}

/// Reads, parses and converts one manifest file, reporting what goes wrong.
fn read_file(
    path: &Path,
    documents: &mut Vec<convert::Document>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let file: Rc<str> = path.display().to_string().into();
    let at = |pos: Option<raw::Pos>| {
        let pos = pos.unwrap_or(raw::Pos { line: 1, column: 1 });
        Some(Location {
            file: file.to_string(),
            line: pos.line,
            column: pos.column,
        })
    };
    let text = match files::read_text(path, files::MAX_MANIFEST_BYTES) {
        Ok(text) => text,
        Err(e) => {
            diagnostics.push(Diagnostic::error(at(e.pos), e.message));
            return;
        }
    };
    let nodes = match raw::parse_documents(&text) {
        Ok(nodes) => nodes,
        Err(e) => {
            diagnostics.push(Diagnostic::error(at(e.pos), e.message));
            return;
        }
    };
    if nodes.is_empty() {
        diagnostics.push(Diagnostic::warning(
            at(None),
            "no YAML documents in this file",
        ));
        return;
    }
    let mut ctx = convert::Ctx {
        file: file.clone(),
        dir: path.parent().unwrap_or(Path::new("")),
        diagnostics,
    };
    documents.extend(
        nodes
            .iter()
            .filter_map(|node| convert::document(node, &mut ctx)),
    );
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
                order.get(&l.file).copied().unwrap_or(usize::MAX),
                l.line,
                l.column,
            )
        })
    });
}
