//! The repository stands alone: every `.md` document that a Markdown file or a
//! code comment names is in the repository, and no merge marker is left.
//!
//! A reader who clones the repository has only what is in it, so a document
//! named but kept elsewhere is a dead end. Names are resolved as a reader would:
//! a path against the naming file's directory or the repository root, a bare
//! file name (`README.md`) against every file of the repository; web addresses
//! are not checked. Markdown links of any kind must point at something that
//! exists. Code comments are read from Rust (`//`, `/* */`, strings and char
//! literals skipped) and from shell, TOML and YAML (`#`).

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

/// Every file of the repository at `root`: build output (`target/`) and hidden
/// entries (`.git`, a local `.rolecall/` account) skipped, except the CI's.
fn repository_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let hidden = name.starts_with('.') && !matches!(name.as_str(), ".ci" | ".github");
            if hidden || (dir == root && name == "target") {
                continue;
            }
            // Not followed: a symlink could loop or leave the repository.
            let file_type = entry.file_type().unwrap();
            if file_type.is_dir() {
                dirs.push(entry.path());
            } else if file_type.is_file() {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    files
}

/// A file's text, or `None` for a binary file.
fn text_of(path: &Path) -> Option<String> {
    String::from_utf8(fs::read(path).unwrap()).ok()
}

/// How to find the prose of a file in which documents may be named.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Markdown,
    Rust,
    /// Shell, TOML, YAML: comments start with `#`.
    Hash,
    /// No comments read (JSON, data, lock files).
    Other,
}

fn kind(path: &Path, text: &str) -> Kind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => Kind::Markdown,
        Some("rs") => Kind::Rust,
        Some("sh" | "toml" | "yaml" | "yml") => Kind::Hash,
        None if text.starts_with("#!") => Kind::Hash,
        _ => Kind::Other,
    }
}

/// Markdown lines outside fenced code blocks (examples there name output
/// files, not documents), with their line numbers.
fn markdown_prose(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
        } else if !fenced {
            out.push((index + 1, line.to_string()));
        }
    }
    out
}

/// The text of `#` comments: from a `#` that starts a line or follows a blank.
fn hash_comments(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut previous = ' ';
        for (at, c) in line.char_indices() {
            if c == '#' && previous.is_whitespace() {
                out.push((index + 1, line[at + 1..].to_string()));
                break;
            }
            previous = c;
        }
    }
    out
}

/// The text of Rust comments, each with the line it starts on. String, raw
/// string and char literals are skipped, so a help text in code is not a
/// comment; a lifetime (`'a`) is not a char literal.
fn rust_comments(text: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        match (at(i), at(i + 1)) {
            ('\n', _) => {
                line += 1;
                i += 1;
            }
            ('/', '/') => {
                let start = i + 2;
                while i < chars.len() && at(i) != '\n' {
                    i += 1;
                }
                out.push((line, chars[start..i].iter().collect()));
            }
            ('/', '*') => {
                let (first_line, start) = (line, i + 2);
                let mut depth = 1;
                i += 2;
                while i < chars.len() && depth > 0 {
                    match (at(i), at(i + 1)) {
                        ('/', '*') => (depth, i) = (depth + 1, i + 2),
                        ('*', '/') => (depth, i) = (depth - 1, i + 2),
                        (c, _) => {
                            line += usize::from(c == '\n');
                            i += 1;
                        }
                    }
                }
                let end = if depth == 0 { i - 2 } else { i };
                out.push((first_line, chars[start..end].iter().collect()));
            }
            ('"', _) => {
                i += 1;
                while i < chars.len() && at(i) != '"' {
                    // An escape may be a line continuation: `\` and a newline.
                    let step = if at(i) == '\\' { 2 } else { 1 };
                    line += (i..i + step).filter(|&k| at(k) == '\n').count();
                    i += step;
                }
                i += 1;
            }
            // A raw string: `r"..."`, `r#"..."#`, `br"..."` (not `r#ident`).
            ('r', _)
                if !is_ident(at(i.wrapping_sub(1)))
                    || (at(i - 1) == 'b' && !is_ident(at(i.wrapping_sub(2)))) =>
            {
                let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
                if at(i + 1 + hashes) != '"' {
                    i += 1;
                    continue;
                }
                i += hashes + 2;
                let closes = |i: usize| at(i) == '"' && (1..=hashes).all(|k| at(i + k) == '#');
                while i < chars.len() && !closes(i) {
                    line += usize::from(at(i) == '\n');
                    i += 1;
                }
                i += hashes + 1;
            }
            // A char literal: `'x'`, `'"'`, `'\''`, `'\u{e9}'`; else a lifetime.
            ('\'', '\\') => {
                i += 3;
                while i < chars.len() && at(i) != '\'' {
                    i += 1;
                }
                i += 1;
            }
            ('\'', _) if at(i + 2) == '\'' => i += 3,
            _ => i += 1,
        }
    }
    out
}

/// The prose of a file in which it may name documents, by line.
fn prose(kind: Kind, text: &str) -> Vec<(usize, String)> {
    match kind {
        Kind::Markdown => markdown_prose(text),
        Kind::Rust => rust_comments(text),
        Kind::Hash => hash_comments(text),
        Kind::Other => Vec::new(),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/')
}

/// Every name ending in `.md` (a path or a bare file name) in a text, except
/// those in a web address and patterns such as `*.md`.
fn md_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (end, _) in text.match_indices(".md") {
        let after = text[end + 3..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `.mdx`, `.md5`
        }
        let start = text[..end]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_name_char(c))
            .last()
            .map_or(end, |(i, _)| i);
        let name = &text[start..end + 3];
        let file_name = name.rsplit('/').next().unwrap_or(name);
        // `//host/x.md` is the tail of `https://host/x.md`.
        if name.starts_with("//") || file_name == ".md" {
            continue;
        }
        names.push(name.to_string());
    }
    names
}

/// The targets of Markdown links `[text](target)` that are not web
/// addresses or anchors, without their `#anchor`.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for (open, _) in line.match_indices("](") {
        let rest = &line[open + 2..];
        let Some(close) = rest.find(')') else {
            continue;
        };
        let target = rest[..close]
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>');
        let target = target.split_whitespace().next().unwrap_or("");
        let path = target.split('#').next().unwrap_or("");
        if path.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        targets.push(path.to_string());
    }
    targets
}

/// `base/relative` with `.` and `..` resolved, if it stays inside `root`.
fn inside(root: &Path, base: &Path, relative: &str) -> Option<PathBuf> {
    if relative.starts_with('/') {
        return None;
    }
    let mut path = base.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::Normal(part) => path.push(part),
            // Above the filesystem root: nowhere.
            Component::ParentDir => path.pop().then_some(())?,
            _ => {}
        }
    }
    path.starts_with(root).then_some(path)
}

/// Whether `name`, found in a file of directory `dir`, is in the repository.
fn is_in_repository(root: &Path, dir: &Path, file_names: &HashSet<String>, name: &str) -> bool {
    if !name.contains('/') {
        return file_names.contains(name);
    }
    [dir, root]
        .iter()
        .filter_map(|base| inside(root, base, name))
        .any(|path| path.exists())
}

/// `FILE:LINE: ...` for every document named but not in the repository.
fn document_problems(root: &Path) -> Vec<String> {
    let files = repository_files(root);
    let file_names: HashSet<String> = files
        .iter()
        .filter_map(|f| f.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let mut problems = Vec::new();
    for file in &files {
        let Some(text) = text_of(file) else {
            continue;
        };
        let kind = kind(file, &text);
        let dir = file.parent().unwrap_or(root);
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        for (line, prose) in prose(kind, &text) {
            for name in md_names(&prose) {
                if !is_in_repository(root, dir, &file_names, &name) {
                    problems.push(format!(
                        "{shown}:{line}: names `{name}`, which is not in the repository"
                    ));
                }
            }
            if kind != Kind::Markdown {
                continue;
            }
            for target in link_targets(&prose) {
                let exists = inside(root, dir, &target).is_some_and(|path| path.exists());
                if !exists {
                    problems.push(format!(
                        "{shown}:{line}: links to `{target}`, which is not in the repository"
                    ));
                }
            }
        }
    }
    problems
}

/// `FILE:LINE: ...` for every merge marker: a conflict marker line in any
/// text file, or an HTML comment in Markdown (the section markers a merge
/// left, such as `<!-- plan -->`; invisible once rendered, so never wanted).
fn marker_problems(root: &Path) -> Vec<String> {
    // Built, not written out, so this file holds no marker itself.
    let (ours, middle, theirs) = ("<".repeat(7), "=".repeat(7), ">".repeat(7));
    let mut problems = Vec::new();
    for file in repository_files(root) {
        let Some(text) = text_of(&file) else {
            continue;
        };
        let markdown = kind(&file, &text) == Kind::Markdown;
        let shown = file
            .strip_prefix(root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for (index, line) in text.lines().enumerate() {
            let conflict = line.starts_with(&ours) || line.starts_with(&theirs) || line == middle;
            if conflict || (markdown && line.contains("<!--")) {
                problems.push(format!("{shown}:{}: merge marker `{line}`", index + 1));
            }
        }
    }
    problems
}

#[test]
fn every_document_named_is_in_the_repository() {
    let problems = document_problems(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        problems.is_empty(),
        "documents named but not in the repository (add them, e.g. under docs/, or fix the name):\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_merge_marker_is_left() {
    let problems = marker_problems(Path::new(env!("CARGO_MANIFEST_DIR")));
    assert!(
        problems.is_empty(),
        "merge markers left:\n{}",
        problems.join("\n")
    );
}

/// A small repository to run the checks on: `(path, content)` pairs.
fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

#[test]
fn documents_named_in_comments_and_markdown_are_resolved_as_a_reader_would() {
    let repo = fixture(&[
        (
            "README.md",
            concat!(
                "See [the design](docs/design.md#pipeline), aws.md, `docs/gone.md`,\n",
                "[notes](notes.md), [site](https://example.com/x.md), every `*.md` file.\n",
                "```sh\nrolecall plan > comment.md\n```\n",
            ),
        ),
        (
            "docs/design.md",
            "Back to [the readme](../README.md); rules in [AWS](aws.md); [up](../../outside.md).\n",
        ),
        ("docs/aws.md", "facts\n"),
        (
            "src/lib.rs",
            concat!(
                "//! See HISTORY.md and docs/design.md.\n",
                "/* also shared/aws.md */\n",
                "const HELP: &str = \"write plan.md\"; // https://example.com/y.md\n",
                "const RAW: &str = r#\"// not.md \"#;\n",
                "fn f<'a>(c: char) -> bool { c == '\"' } // aws.md\n",
                "const Q: char = '\\''; // docs/aws.md\n",
            ),
        ),
        (
            "scripts/run.sh",
            "#!/bin/sh\necho x.md # see ../README.md and missing.md\n",
        ),
        (".hidden/notes.md", "[x](nowhere.md)\n"),
        ("target/doc.md", "[x](nowhere.md)\n"),
    ]);
    let problems = document_problems(repo.path());
    assert_eq!(
        problems,
        [
            "README.md:1: names `docs/gone.md`, which is not in the repository",
            "README.md:2: names `notes.md`, which is not in the repository",
            "README.md:2: links to `notes.md`, which is not in the repository",
            "docs/design.md:1: names `../../outside.md`, which is not in the repository",
            "docs/design.md:1: links to `../../outside.md`, which is not in the repository",
            "scripts/run.sh:2: names `missing.md`, which is not in the repository",
            "src/lib.rs:1: names `HISTORY.md`, which is not in the repository",
            "src/lib.rs:2: names `shared/aws.md`, which is not in the repository",
        ]
    );
}

#[test]
fn merge_markers_are_found() {
    let (ours, middle, theirs) = ("<".repeat(7), "=".repeat(7), ">".repeat(7));
    let conflict = format!("a\n{ours} HEAD\nb\n{middle}\nc\n{theirs} branch\n");
    let repo = fixture(&[
        ("README.md", "# rolecall\n\n<!-- manifest -->\nText.\n"),
        ("src/lib.rs", &conflict),
        ("notes.txt", "a === b, <!-- fine outside Markdown -->\n"),
    ]);
    assert_eq!(
        marker_problems(repo.path()),
        [
            "README.md:3: merge marker `<!-- manifest -->`".to_string(),
            format!("src/lib.rs:2: merge marker `{ours} HEAD`"),
            format!("src/lib.rs:4: merge marker `{middle}`"),
            format!("src/lib.rs:6: merge marker `{theirs} branch`"),
        ]
    );
}
