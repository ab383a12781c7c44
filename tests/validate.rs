//! `rolecall validate` on fixtures: one test per rule, with the exact output
//! (insta snapshots in tests/snapshots/), and hostile inputs.

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;

const FIXTURES: &str = "tests/fixtures/manifest";

/// Runs `rolecall validate` in `dir` and returns exit code, stdout, stderr as one text.
fn validate_in(dir: &Path, paths: &[&str]) -> (i32, String) {
    let mut command = Command::cargo_bin("rolecall").unwrap();
    command.current_dir(dir).arg("validate");
    for path in paths {
        command.arg("-f").arg(path);
    }
    let output = command.output().unwrap();
    let code = output.status.code().unwrap_or(-1);
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (code, text)
}

fn fixture(name: &str) -> (i32, String) {
    let path = format!("{FIXTURES}/{name}");
    validate_in(Path::new(env!("CARGO_MANIFEST_DIR")), &[&path])
}

macro_rules! rule {
    ($test:ident, $file:literal, $exit:literal) => {
        #[test]
        fn $test() {
            let (code, output) = fixture($file);
            assert_eq!(code, $exit, "{output}");
            insta::assert_snapshot!(stringify!($test), output);
        }
    };
}

rule!(
    unknown_fields_suggest_the_right_name,
    "unknown-field.yaml",
    1
);
rule!(
    document_must_be_a_mapping_with_a_known_kind,
    "document-shape.yaml",
    1
);
rule!(names_have_iam_length_and_characters, "names.yaml", 1);
rule!(
    names_are_unique_ignoring_case_naming_both_places,
    "duplicate-names",
    1
);
rule!(path_and_max_session_duration, "role-fields.yaml", 1);
rule!(
    description_at_most_1000_characters,
    "long-description.yaml",
    1
);
rule!(managed_policy_arns_count_and_repeats, "arns.yaml", 1);
rule!(
    aws_managed_policies_exist_and_are_not_service_linked,
    "aws-policies.yaml",
    1
);
rule!(
    managed_policies_in_every_document_form,
    "managed-policy-forms.yaml",
    0
);
rule!(
    managed_policy_fields_as_create_policy_takes_them,
    "managed-policy-fields.yaml",
    1
);
rule!(
    managed_policy_documents_grammar_and_size,
    "managed-policy-documents.yaml",
    1
);
rule!(
    roles_name_declared_managed_policies,
    "managed-policy-references.yaml",
    1
);
rule!(tag_keys_values_and_reserved_prefixes, "tags.yaml", 1);
rule!(tag_key_and_value_lengths, "tag-lengths.yaml", 1);
rule!(at_most_48_tags_after_stack_merge, "tag-count.yaml", 1);
rule!(at_most_48_tags_without_a_stack, "own-tag-count.yaml", 1);
rule!(policy_documents_are_well_formed, "policies.yaml", 1);
rule!(trust_and_inline_policy_quotas, "policy-sizes.yaml", 1);
rule!(trust_shorthand, "trust.yaml", 1);
rule!(undeclared_references_are_warnings, "references.yaml", 0);
rule!(
    undeclared_references_allow_for_unread_documents,
    "unreadable-declaration.yaml",
    1
);
rule!(profile_roles_must_trust_ec2, "ec2-trust.yaml", 1);
rule!(
    instances_have_one_valid_selector_and_appear_once,
    "instances.yaml",
    1
);
rule!(at_most_one_stack, "stacks.yaml", 1);
rule!(yaml_syntax_error, "yaml-syntax.yaml", 1);
rule!(duplicate_keys, "duplicate-key.yaml", 1);
rule!(
    one_broken_document_hides_no_other,
    "independent-documents.yaml",
    1
);
rule!(
    keys_that_collide_once_read_as_text,
    "colliding-keys.yaml",
    1
);
rule!(
    references_must_match_declared_names_exactly,
    "reference-case.yaml",
    1
);
rule!(wrong_values_say_what_was_found, "misleading-values.yaml", 1);
rule!(tabs_are_reported_where_they_are, "tab.yaml", 1);
rule!(aliases_name_the_missing_anchor, "unknown-alias.yaml", 1);
rule!(
    policy_size_does_not_count_whitespace,
    "policy-whitespace.yaml",
    1
);
rule!(stack_has_at_most_48_tags, "stack-tag-count.yaml", 1);
rule!(
    stack_account_and_partition_are_aws_ones,
    "stack-account.yaml",
    1
);
rule!(
    document_markers_inside_values_are_one_error,
    "marker-in-value.yaml",
    1
);

#[test]
fn ten_mistakes_are_all_reported_at_their_lines() {
    let (code, output) = fixture("ten-mistakes.yaml");
    assert_eq!(code, 1);
    let lines: Vec<usize> = output
        .lines()
        .filter(|line| line.contains(": error: "))
        .map(|line| line.split(':').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(lines, [3, 4, 5, 6, 9, 11, 19, 20, 23, 26], "{output}");
    assert!(
        output.ends_with("error: 10 errors in manifests\n"),
        "{output}"
    );
    insta::assert_snapshot!(output);
}

#[test]
fn missing_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty-dir")).unwrap();
    let (code, output) = validate_in(dir.path(), &["nope.yaml", "empty-dir"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(output);
}

#[test]
fn sample_manifests_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (code, output) = validate_in(root, &[]);
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        output,
        "exit: 0\n--- stdout\nok: 15 resources in 6 files\n--- stderr\n"
    );
    for example in ["examples/lab", "examples/single-role.yaml"] {
        let (code, output) = validate_in(root, &[example]);
        assert_eq!(code, 0, "{example}: {output}");
        assert!(
            output.contains("--- stderr\n") && output.ends_with("--- stderr\n"),
            "{output}"
        );
    }
}

/// Hostile input: written into a temporary directory at test time, validated
/// from there (so the output names it relatively), must fail cleanly. How
/// fast is the load benchmark's business; the bound here only tells a budget
/// that stopped working (minutes of parsing) from a busy test machine.
fn hostile(name: &str, contents: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(name), contents).unwrap();
    let started = Instant::now();
    let (code, output) = validate_in(dir.path(), &[name]);
    let elapsed = started.elapsed();
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains(&format!("{name}:")),
        "names the file: {output}"
    );
    assert!(!output.contains("panicked"), "{output}");
    assert!(elapsed < Duration::from_secs(30), "{name} took {elapsed:?}");
    output
}

#[test]
fn alias_bomb() {
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    insta::assert_snapshot!(hostile("bomb.yaml", bomb.as_bytes()));
}

#[test]
fn deep_block_nesting() {
    // Compact nested block sequences: `- - - ... x`, 10,000 levels on one line.
    let deep = format!("{}x\n", "- ".repeat(10_000));
    insta::assert_snapshot!(hostile("deep.yaml", deep.as_bytes()));
}

#[test]
fn deep_flow_nesting() {
    let deep = format!(
        "kind: Role\nname: {}{}\n",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    insta::assert_snapshot!(hostile("deep-flow.yaml", deep.as_bytes()));
}

#[test]
fn hundred_megabyte_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
    // Sparse: the size check refuses it before reading a byte.
    file.set_len(100 * 1024 * 1024).unwrap();
    let started = Instant::now();
    let (code, output) = validate_in(dir.path(), &["huge.yaml"]);
    assert_eq!(code, 1);
    assert!(started.elapsed() < Duration::from_secs(1));
    insta::assert_snapshot!(output);
}

#[test]
fn invalid_utf8() {
    insta::assert_snapshot!(hostile("latin1.yaml", b"kind: Role\nname: caf\xe9\n"));
}

#[test]
fn binary_file() {
    insta::assert_snapshot!(hostile(
        "image.yaml",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01"
    ));
}

#[test]
fn document_that_is_a_list_or_a_scalar() {
    insta::assert_snapshot!(hostile("shapes.yaml", b"- kind: Role\n---\n42\n"));
}

#[test]
fn empty_file() {
    insta::assert_snapshot!(hostile("empty.yaml", b""));
    let output = hostile("comments.yaml", b"# Nothing here yet.\n\n   \n");
    assert!(
        output.contains("comments.yaml:1:1: error: the file holds no YAML documents"),
        "{output}"
    );
}

#[test]
fn empty_documents_inside_a_file_are_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let text = "---\n---\nkind: Role\nname: r\ntrust: ec2\n---\n# none\n...\n";
    std::fs::write(dir.path().join("m.yaml"), text).unwrap();
    let (code, output) = validate_in(dir.path(), &["m.yaml"]);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("ok: 1 resource in 1 file"), "{output}");
}

/// A named pipe would block a reader forever, `/dev/zero` never ends: both
/// are refused before being opened.
#[cfg(unix)]
#[test]
fn special_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.yaml"))
        .status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir.path())
        .args(["validate", "-f", "pipe.yaml", "-f", "/dev/zero"])
        .timeout(Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr));
}

#[test]
fn duplicate_keys_in_nested_mapping() {
    insta::assert_snapshot!(hostile(
        "dup.yaml",
        b"kind: Role\nname: a\ntrust: ec2\ntags:\n  team: a\n  team: b\n"
    ));
}

/// Runs `rolecall ARGS` in `dir` (no account needed for `validate`); exit
/// code, and stdout and stderr as one text.
fn rolecall_in(dir: &Path, args: &[&str]) -> (i32, String) {
    let output = Command::cargo_bin("rolecall")
        .unwrap()
        .current_dir(dir)
        .env_remove("ROLECALL_ACCOUNT")
        .env("NO_COLOR", "1")
        .args(args)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    let code = output.status.code().unwrap_or(-1);
    let text = format!(
        "exit: {code}\n--- stdout\n{}--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (code, text)
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A valid permissions policy naming `resource`, so that the text is seen
/// if a plan prints the document.
fn policy_naming(resource: &str) -> String {
    format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{resource}"}}]}}"#
    )
}

/// Whether a file exists outside the root is not told: a missing file
/// outside reads as outside, exactly as a present one does.
#[cfg(unix)]
#[test]
fn a_missing_file_outside_the_root_reads_as_outside_not_as_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let repo = tmp_path.join("repo");
    std::fs::create_dir_all(repo.join("manifests")).unwrap();
    write(&tmp_path.join("present.json"), &policy_naming("x"));
    std::os::unix::fs::symlink(&tmp_path, repo.join("manifests/up")).unwrap();
    let manifest = "kind: Role\nname: r\ntrust: ec2\ninline_policies:\n  \
         present: {file: ../../present.json}\n  \
         missing: {file: ../../missing.json}\n  \
         missing-dir: {file: ../../nowhere/missing.json}\n  \
         via-link: {file: up/missing.json}\n  \
         inside-missing: {file: missing.json}\n";
    write(&repo.join("manifests/m.yaml"), manifest);
    let (code, output) = rolecall_in(&repo, &["validate"]);
    assert_eq!(code, 1, "{output}");
    let lines: Vec<&str> = output.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(lines.len(), 5, "{output}");
    for line in &lines[..4] {
        assert!(line.contains("resolves outside the file root"), "{line}");
    }
    assert!(
        lines[4].contains("missing.json`: cannot read: "),
        "a missing file inside the root says so: {}",
        lines[4]
    );
}

/// `{file: ...}` reads only inside the file root (the directory rolecall
/// runs in, or `--file-root`), symlinks followed: a manifest in a pull
/// request must not make `plan --format markdown` print a file from
/// elsewhere on the CI machine into a comment.
#[cfg(unix)]
#[test]
fn policy_files_must_lie_inside_the_file_root() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let repo = tmp_path.join("repo");
    let outside = tmp_path.join("outside.json");
    write(&outside, &policy_naming("outside-secret"));
    write(
        &repo.join("policies/inside.json"),
        &policy_naming("inside-ok"),
    );
    std::fs::create_dir_all(repo.join("manifests")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.join("manifests/link-out.json")).unwrap();
    std::os::unix::fs::symlink("../policies", repo.join("manifests/link-in")).unwrap();
    let manifest = format!(
        "kind: Role\nname: r\ntrust: ec2\ninline_policies:\n  \
         relative: {{file: ../policies/inside.json}}\n  \
         symlink-inside: {{file: link-in/inside.json}}\n  \
         absolute-inside: {{file: {inside}}}\n  \
         dot-dot: {{file: ../../outside.json}}\n  \
         absolute: {{file: {outside}}}\n  \
         symlink-out: {{file: link-out.json}}\n",
        inside = repo.join("policies/inside.json").display(),
        outside = outside.display(),
    );
    write(&repo.join("manifests/m.yaml"), &manifest);
    let shown = |text: String| text.replace(&tmp_path.display().to_string(), "[TMP]");

    let (code, output) = rolecall_in(&repo, &["validate"]);
    assert_eq!(code, 1, "{output}");
    assert!(!output.contains("outside-secret"), "{output}");
    insta::assert_snapshot!("file_root_validate", shown(output));

    // A plan refuses too, so the PR comment holds no file from outside.
    let (code, output) = rolecall_in(&repo, &["plan", "--format", "markdown"]);
    assert_eq!(code, 1, "{output}");
    assert!(!output.contains("outside-secret"), "{output}");
    assert!(output.contains("error: 3 errors in manifests"), "{output}");

    // A wider root lets the same references in: the plan then shows them.
    let (code, output) = rolecall_in(
        &repo,
        &["plan", "--format", "markdown", "--file-root", ".."],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("outside-secret"), "{output}");
    assert!(output.contains("inside-ok"), "{output}");

    // Run from below the repository, its own references lie outside: the
    // root is where rolecall runs, not where the manifests are.
    let manifests = repo.join("manifests");
    let (code, output) = rolecall_in(&manifests, &["validate", "-f", "m.yaml"]);
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("error: 6 errors in manifests"), "{output}");
    let (code, output) = rolecall_in(
        &manifests,
        &["validate", "-f", "m.yaml", "--file-root", ".."],
    );
    assert_eq!(code, 1, "{output}");
    assert!(output.contains("error: 3 errors in manifests"), "{output}");

    let (code, output) = rolecall_in(&repo, &["validate", "--file-root", "nowhere"]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("error: file root `nowhere`: cannot read: No such file or directory"),
        "{output}"
    );
    let (code, output) = rolecall_in(&repo, &["validate", "--file-root", "manifests/m.yaml"]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("error: file root `manifests/m.yaml` is not a directory"),
        "{output}"
    );
}

/// Manifest files obey the same rule, walked or named with `-f`: a symlink
/// committed in `manifests/` cannot make a plan print a file from elsewhere.
/// The error names the file and the rule, never its content, and says the
/// same whether the target outside exists or not.
#[cfg(unix)]
#[test]
fn manifest_files_must_lie_inside_the_file_root() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp_path = std::fs::canonicalize(tmp.path()).unwrap();
    let repo = tmp_path.join("repo");
    let secret = "kind: Role\nname: leaked\ntrust: ec2\ndescription: outside-secret\n";
    write(&tmp_path.join("outside/secret.yaml"), secret);
    write(
        &repo.join("manifests/b.yaml"),
        "kind: Role\nname: inside\ntrust: ec2\n",
    );
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, repo.join("manifests").join(name)).unwrap();
    };
    link("../../outside/secret.yaml", "a.yaml");
    link("../../outside/missing.yaml", "c.yaml");
    link("b.yaml", "d.yaml");

    let (code, output) = rolecall_in(&repo, &["plan", "--format", "markdown"]);
    assert_eq!(code, 1, "{output}");
    assert!(!output.contains("outside-secret"), "{output}");
    assert!(!output.contains("leaked"), "{output}");
    let rule = "  help: manifests and policy files must lie inside the file root: \
                the directory rolecall runs in, or the one `--file-root DIR` names\n";
    let expected = format!(
        "error: `manifests/a.yaml`: resolves outside the file root `{root}`\n{rule}\
         error: `manifests/c.yaml`: resolves outside the file root `{root}`\n{rule}",
        root = repo.display()
    );
    assert!(output.contains(&expected), "{output}");
    // A link inside the root is read as ever (here: b.yaml, read once).
    assert!(output.contains("error: 2 errors in manifests"), "{output}");

    // Named with -f, absolute or through `..`, the same.
    for named in [
        "../outside/secret.yaml".to_string(),
        tmp_path.join("outside/secret.yaml").display().to_string(),
    ] {
        let (code, output) = rolecall_in(&repo, &["plan", "-f", &named]);
        assert_eq!(code, 1, "{output}");
        assert!(!output.contains("outside-secret"), "{output}");
        assert!(
            output.contains(&format!(
                "error: `{named}`: resolves outside the file root `{}`",
                repo.display()
            )),
            "{output}"
        );
    }
    // A wider root lets it in.
    let (code, output) = rolecall_in(
        &repo,
        &[
            "plan",
            "--format",
            "markdown",
            "-f",
            "../outside",
            "--file-root",
            "..",
        ],
    );
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("outside-secret"), "{output}");
}

/// A file named as a policy may hold anything (credentials, say): what is
/// wrong with it is told, with its line and column where known, but none
/// of its keys or values.
#[test]
fn errors_about_a_policy_file_never_quote_it() {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "credentials.json",
            "{\"aws_access_key_id\": \"AKIAIOSFODNN7EXAMPLE\",\n \"aws_secret_access_key\": \"wJalrXUtnFEMIK7MDENG\"}\n",
        ),
        (
            "statement-key.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "wJalrXUtnFEMIK7MDENG": 1}]}"#,
        ),
        (
            "resource.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "wJalrXUtnFEMIK7MDENG"}]}"#,
        ),
        (
            "action.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "wJalrXUtnFEMIK7MDENG", "Resource": "*"}]}"#,
        ),
        (
            "sid.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Sid": "wJalrXUtnFEMIK7MDENG-1", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        ),
        (
            "version.json",
            r#"{"Version": "wJalrXUtnFEMIK7MDENG", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        ),
        (
            "effect.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "wJalrXUtnFEMIK7MDENG", "Action": "s3:GetObject", "Resource": "*"}]}"#,
        ),
        (
            "broken.json",
            "{\"Version\": \"2012-10-17\",\n \"aws_secret_access_key\": \"wJalrXUtnFEMIK7MDENG\n",
        ),
        (
            "dotenv.json",
            "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENG\n",
        ),
        (
            "principal.json",
            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "wJalrXUtnFEMIK7MDENG"}}]}"#,
        ),
    ];
    let mut manifest =
        String::from("kind: Role\nname: r\ntrust: {file: principal.json}\ninline_policies:\n");
    for (name, text) in files {
        write(&dir.path().join(name), text);
        if name != "principal.json" {
            manifest.push_str(&format!(
                "  {}: {{file: {name}}}\n",
                name.trim_end_matches(".json")
            ));
        }
    }
    std::fs::write(
        dir.path().join("latin1.json"),
        b"{\"k\": \"caf\xe9 wJalrXUtnFEMIK7MDENG\"}",
    )
    .unwrap();
    manifest.push_str("  latin1: {file: latin1.json}\n");
    write(&dir.path().join("m.yaml"), &manifest);
    let (code, output) = validate_in(dir.path(), &["m.yaml"]);
    assert_eq!(code, 1, "{output}");
    for secret in [
        "wJalr",
        "AKIA",
        "aws_access_key_id",
        "aws_secret_access_key",
        "AWS_SECRET",
    ] {
        assert!(!output.contains(secret), "quotes {secret}: {output}");
    }
    assert!(output.contains("error: 11 errors in manifests"), "{output}");
    insta::assert_snapshot!(output);

    // Written in the manifest itself, the same mistakes are quoted: the
    // user wrote them there.
    let inline = format!(
        "kind: Role\nname: r\ntrust: ec2\ninline_policies:\n  p: '{}'\n",
        files[1].1
    );
    write(&dir.path().join("inline.yaml"), &inline);
    let (code, output) = validate_in(dir.path(), &["inline.yaml"]);
    assert_eq!(code, 1, "{output}");
    assert!(
        output.contains("unknown statement key `wJalrXUtnFEMIK7MDENG`"),
        "{output}"
    );
}

/// `{file: ""}` and a directory are not regular files; neither is a named pipe,
/// which is refused without being opened.
#[cfg(unix)]
#[test]
fn a_policy_file_must_be_a_regular_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe.json"))
        .status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    write(
        &dir.path().join("m.yaml"),
        "kind: Role\nname: r\ntrust: {file: \"\"}\ninline_policies:\n  \
         dir: {file: policies}\n  dot: {file: .}\n  pipe: {file: pipe.json}\n",
    );
    let (code, output) = validate_in(dir.path(), &["m.yaml"]);
    assert_eq!(code, 1, "{output}");
    insta::assert_snapshot!(output);
}

/// Nothing rolecall prints lets a manifest or account value forge terminal
/// output (escape sequences, a carriage return, a line break starting a
/// fake diagnostic) or hide text (bidi overrides, zero-width characters):
/// such characters are printed escaped, as Rust writes them.
#[test]
fn messages_escape_control_and_bidi_characters() {
    let dir = tempfile::tempdir().unwrap();
    // YAML double quotes spell the characters: `\e` is ESC, `\r` CR.
    write(
        &dir.path().join("m.yaml"),
        "kind: Role\n\
         name: \"web\\u202Egpj.exe\"\n\
         trust: ec2\n\
         tags:\n  \
           team: \"\\e[2J\\e[31mred\\r\"\n  \
           \"note\\u2066\": x\n\
         ---\n\
         kind: Role\n\
         name: \"a\\nm.yaml:1:1: error: forged\\u200B\"\n\
         trust: ec2\n",
    );
    let forged = |text: &str| {
        text.contains(['\u{1b}', '\r', '\u{202e}', '\u{2066}', '\u{200b}'])
            || text
                .lines()
                .any(|line| line.starts_with("m.yaml:1:1: error: forged"))
    };
    let (code, output) = validate_in(dir.path(), &["m.yaml"]);
    assert_eq!(code, 1, "{output}");
    assert!(!forged(&output), "{output:?}");
    insta::assert_snapshot!(output);

    // Errors printed by `main`: from a command's context chain, and AWS's.
    let (code, output) = rolecall_in(dir.path(), &["apply", "plan\u{1b}[2J\u{202e}.json"]);
    assert_eq!(code, 1, "{output}");
    assert!(!forged(&output), "{output:?}");
    assert!(output.contains("plan\\u{1b}[2J\\u{202e}.json"), "{output}");
    let (code, output) = rolecall_in(
        dir.path(),
        &[
            "--account",
            "account.db",
            "emulator",
            "get-role",
            "--role-name",
            "web\u{202e}\u{1b}[31m",
        ],
    );
    assert_eq!(code, 1, "{output}");
    assert!(!forged(&output), "{output:?}");
    assert!(
        output.contains("Value 'web\\u{202e}\\u{1b}[31m' at 'roleName'"),
        "{output}"
    );
}

/// Every other file a user names is refused the same way when it is not a
/// regular file: a saved plan, an account export, a `file://` document.
#[cfg(unix)]
#[test]
fn other_files_rolecall_reads_must_be_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status();
    assert!(made.is_ok_and(|status| status.success()), "mkfifo");
    for (path, kind) in [("folder", "a directory"), ("pipe", "a named pipe")] {
        let document = format!("file://{path}");
        for args in [
            vec!["apply", path],
            vec!["emulator", "import", path],
            vec![
                "emulator",
                "create-role",
                "--role-name",
                "r",
                "--assume-role-policy-document",
                &document,
            ],
        ] {
            let mut all = vec!["--account", "account.db"];
            all.extend(&args);
            // A pipe that were opened would block until the timeout.
            let (code, output) = rolecall_in(dir.path(), &all);
            assert_eq!(code, 1, "{args:?}: {output}");
            assert!(
                output.contains(&format!("{path}: not a regular file (it is {kind})")),
                "{args:?}: {output}"
            );
        }
    }
}
