//! Terminal setup shared by every command: colour choice, log verbosity,
//! what `-q` leaves out, and printing that survives a closed pipe.

use anstyle::{AnsiColor, Style};

use super::ColorChoice;
use super::session::Session;
use crate::manifest::Diagnostics;

/// Applies `--color`, NO_COLOR and `-v/-q` for the whole process.
pub fn init(session: &Session) {
    let choice = set_color(session.color);

    let level = if session.quiet {
        "error"
    } else {
        match session.verbose {
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = log_filter()
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new(format!("rolecall={level}")));
    let stderr_colored = match choice {
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
        anstream::ColorChoice::Never => false,
        anstream::ColorChoice::Auto => {
            anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never
        }
    };
    // A second init (tests calling run twice) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_colored)
        // Its default reports a failed write with `eprint!`, which panics
        // when stderr is a closed pipe.
        .log_internal_errors(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The filter ROLECALL_LOG (tracing's filter syntax) sets, overriding
/// -v/-q; set but empty, it is unset, not a filter that hides everything.
/// One that is not a filter is said once, then -v/-q apply. (Said even with
/// -q: the variable asks for logs, and a mistyped one must not be silent.)
fn log_filter() -> Option<tracing_subscriber::EnvFilter> {
    let problem = match std::env::var("ROLECALL_LOG") {
        Err(std::env::VarError::NotPresent) => return None,
        Ok(directives) if directives.trim().is_empty() => return None,
        Ok(directives) => match tracing_subscriber::EnvFilter::try_new(&directives) {
            Ok(filter) => return Some(filter),
            Err(e) => format!("ROLECALL_LOG={directives:?} is not a log filter ({e})"),
        },
        Err(std::env::VarError::NotUnicode(_)) => "ROLECALL_LOG is not UTF-8 text".to_string(),
    };
    eprint_line(&format!(
        "warning: {problem}: ignored, logs follow -v/-q (example: ROLECALL_LOG=rolecall=debug)"
    ));
    None
}

/// Applies `--color` (and NO_COLOR) for the whole process.
fn set_color(color: ColorChoice) -> anstream::ColorChoice {
    let choice = match color {
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
        // anstream's Auto honours NO_COLOR, CLICOLOR and whether stdout is a terminal.
        ColorChoice::Auto => anstream::ColorChoice::Auto,
    };
    choice.write_global();
    choice
}

/// Prints a command line clap refused as every other error prints: escaped
/// (an argument may hold terminal escapes or bidi overrides), its `error:`
/// label coloured as the `--color` given says. `--help` and `--version`
/// are not errors: clap prints them.
pub fn eprint_usage_error(error: &clap::Error) {
    set_color(color_given(std::env::args_os().skip(1)));
    // The same error again, from a command without styles, so its text has
    // the arguments as given (clap's plain rendering would drop their escape
    // sequences unseen) and no colour codes of clap's own.
    let plain = <super::Cli as clap::CommandFactory>::command()
        .styles(clap::builder::Styles::plain())
        .try_get_matches()
        .err()
        .map_or_else(
            || error.to_string(),
            |plain| plain.render().ansi().to_string(),
        );
    eprint_line(plain.trim_end());
}

/// The last `--color WHEN` (or `--color=WHEN`) on a command line that does
/// not parse as a whole, where it is still one; `auto` otherwise.
fn color_given(args: impl Iterator<Item = std::ffi::OsString>) -> ColorChoice {
    use clap::ValueEnum;
    let mut color = ColorChoice::Auto;
    let mut args = args.take_while(|arg| arg != "--");
    while let Some(arg) = args.next() {
        let value = match arg.to_str() {
            Some("--color") => args.next(),
            Some(arg) => arg.strip_prefix("--color=").map(Into::into),
            None => None,
        };
        if let Some(found) = value.and_then(|v| ColorChoice::from_str(v.to_str()?, false).ok()) {
            color = found;
        }
    }
    color
}

/// Whether colour is on for stdout, after `--color` and NO_COLOR.
pub fn colored() -> bool {
    match anstream::ColorChoice::global() {
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => true,
        anstream::ColorChoice::Never => false,
        anstream::ColorChoice::Auto => {
            anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

/// How text plans render for this invocation: colour after `--color` and
/// NO_COLOR, and the API call list at `-v`.
pub fn text_options(session: &Session) -> crate::plan::render::text::TextOptions {
    crate::plan::render::text::TextOptions {
        color: colored(),
        steps: session.verbose > 0,
    }
}

/// Writes a command's whole output to stdout (no colour: JSON, YAML). A
/// reader that went away (`rolecall emulator export - | head`) is not an
/// error: what the command did, and its exit code, do not change.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

// Output is best effort: `rolecall plan | head` or a log reader that goes
// away must not crash the program (std's `print!` panics on a closed pipe),
// least of all in the middle of an apply. The exit code still tells the outcome.

/// `print!` to stdout (colour stripped as configured), ignoring write errors.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(anstream::stdout(), $($arg)*);
    }};
}

/// `println!` to stdout, ignoring write errors.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(anstream::stdout(), $($arg)*);
    }};
}

/// `eprintln!` to stderr with its `error:` / `warning:` labels coloured (see
/// [`paint_labels`]), ignoring write errors.
macro_rules! errln {
    ($($arg:tt)*) => {{
        $crate::cli::output::eprint_line(&format!($($arg)*));
    }};
}

/// Writes one message (and a newline) to stderr, ignoring write errors:
/// escaped first ([`printable`](crate::printable::printable): control and
/// bidi characters a value could forge output with), then its labels
/// coloured as `--color` and NO_COLOR say.
pub fn eprint_line(message: &str) {
    use std::io::Write as _;
    let escaped = crate::printable::printable(message).to_string();
    let _ = writeln!(anstream::stderr(), "{}", paint_labels(&escaped));
}

/// The colour of a label that starts a message.
fn label_style(label: &str) -> Style {
    match label {
        "error" => AnsiColor::Red.on_default().bold(),
        _ => AnsiColor::Yellow.on_default().bold(),
    }
}

/// Whether `text` is a place in a file, `FILE:LINE:COL`, as diagnostics start.
fn is_place(text: &str) -> bool {
    let mut parts = text.rsplitn(3, ':');
    let mut number = || {
        parts
            .next()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    number() && number() && parts.next().is_some_and(|file| !file.is_empty())
}

/// Where the `error:` or `warning:` label of a line starts: at the start, or
/// after a diagnostic's `FILE:LINE:COL: `.
fn label_at(line: &str) -> Option<(usize, &'static str)> {
    ["error", "warning"].into_iter().find_map(|label| {
        let at_start = line
            .strip_prefix(label)
            .is_some_and(|rest| rest.starts_with(": "));
        if at_start {
            return Some((0, label));
        }
        let marker = format!(": {label}: ");
        let at = line.find(&marker)?;
        is_place(&line[..at]).then_some((at + 2, label))
    })
}

/// Colours the `error:` and `warning:` label of each line of a finished
/// message, as plans colour their own. Done last, on text already complete,
/// so no colour code comes from input; anstream takes them out again when
/// stderr is not to be coloured (`--color never`, NO_COLOR, not a terminal).
pub fn paint_labels(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match label_at(line) {
            Some((start, label)) => {
                let style = label_style(label);
                let end = start + label.len() + 1;
                out.push_str(&line[..start]);
                out.push_str(&format!(
                    "{}{}{}",
                    style.render(),
                    &line[start..end],
                    style.render_reset()
                ));
                out.push_str(&line[end..]);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The manifest diagnostics to print: with `-q`, the errors only.
pub fn shown_diagnostics(session: &Session, diagnostics: Diagnostics) -> Diagnostics {
    if session.quiet {
        Diagnostics(diagnostics.0.into_iter().filter(|d| d.is_error()).collect())
    } else {
        diagnostics
    }
}

pub(crate) use {errln, out, outln};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_found_at_the_start_or_after_a_place_only() {
        assert_eq!(label_at("error: cannot plan"), Some((0, "error")));
        assert_eq!(label_at("warning: took over"), Some((0, "warning")));
        assert_eq!(
            label_at("dir/a b.yaml:12:3: warning: role `x`"),
            Some((19, "warning"))
        );
        for plain in [
            "errors: 3",
            "note: error: inside",
            "a.yaml: error: no line or column",
            "a.yaml:1:x: error: not a column",
            ":1:2: error: no file",
            "  help: error: as text",
        ] {
            assert_eq!(label_at(plain), None, "{plain}");
        }
    }

    #[test]
    fn painting_touches_the_labels_only() {
        let text = "a.yaml:1:2: error: bad\n  help: fix it\nerror: 1 error";
        let painted = paint_labels(text);
        let error = label_style("error");
        let red = format!("{}error:{}", error.render(), error.render_reset());
        assert_eq!(
            painted,
            format!("a.yaml:1:2: {red} bad\n  help: fix it\n{red} 1 error")
        );
        assert_eq!(paint_labels("no label\n"), "no label\n");
    }
}
