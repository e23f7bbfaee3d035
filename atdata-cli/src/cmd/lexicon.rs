//! `atdata lexicon`: validate data against lexicons, lint lexicon folders.
//!
//! `validate --lexicons DIR NSID FILE` checks one JSON value (`-` reads stdin):
//! - a record NSID validates a record (its `$type` must be the NSID);
//! - `nsid#name`, or an NSID whose `main` is not a record or method, validates against that
//!   definition;
//! - a query, procedure or subscription NSID needs one of `--params`, `--input`, `--output`
//!   or `--message` to say which part of the method the data is.
//!
//! Every error is listed with its path (`Record.embed.images[2].alt`), up to the validator's
//! cap (100); past it errors are counted (`omitted` in JSON). Exit 0 valid, 1 invalid
//! (or not atproto JSON), 2 usage (unknown NSID, missing or misplaced part flag), 3 unreadable
//! (the file, or a lexicon folder that does not load).
//!
//! `lint DIR` prints every lint of the lexicons under DIR and exits 1 if any is an error.

use std::path::PathBuf;

use atdata_core::Value;
use atdata_lexicon::lint::{lint_json_dir, Severity};
use atdata_lexicon::schema::UserType;
use atdata_lexicon::{Catalog, DefRef, Target, ValidateOptions};
use clap::{ArgGroup, Args, Subcommand};

use super::read_input;
use crate::output::Output;
use crate::Failure;

#[derive(Subcommand)]
pub enum LexiconCommand {
    /// Validate JSON data (a record, a definition, or a method's params/input/output/message).
    Validate(ValidateArgs),
    /// Lint every lexicon under DIR; exit 1 if any lint is an error.
    Lint(LintArgs),
    /// Generate Rust types (records, objects, unions, XRPC requests) from the lexicons under
    /// --lexicons into --out: a module tree, or with --crate a ready-to-build crate.
    Gen(GenArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("part").args(["params", "input", "output", "message"])))]
pub struct ValidateArgs {
    /// Folder of lexicon JSON files (read recursively).
    #[arg(long, value_name = "DIR")]
    lexicons: PathBuf,
    /// The data is the method's parameters (a JSON object of typed values).
    #[arg(long)]
    params: bool,
    /// The data is the procedure's input body.
    #[arg(long)]
    input: bool,
    /// The data is the query's or procedure's output body.
    #[arg(long)]
    output: bool,
    /// The data is a subscription message (with its `$type`).
    #[arg(long)]
    message: bool,
    /// Accept legacy `{cid, mimeType}` blobs (records written before 2023).
    #[arg(long)]
    allow_legacy_blobs: bool,
    /// Record type or method NSID, or `nsid#name` of a definition.
    nsid: String,
    /// JSON data file (`-` reads stdin).
    file: String,
}

#[derive(Args)]
pub struct LintArgs {
    /// Folder of lexicon JSON files (read recursively).
    dir: PathBuf,
}

#[derive(Args)]
pub struct GenArgs {
    /// Folder of lexicon JSON files (read recursively). References to official lexicons
    /// (com.atproto, app.bsky, …) need not be copied in: they use atdata-api's types.
    #[arg(long, value_name = "DIR")]
    lexicons: PathBuf,
    /// Where to write: a module tree (mod.rs and below), or the crate with --crate.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write a whole crate named NAME (Cargo.toml with one feature per namespace, src/lib.rs).
    #[arg(long = "crate", value_name = "NAME")]
    crate_name: Option<String>,
    /// With --crate: depend on the atdata crates of the checkout at DIR (DIR/atdata-core,
    /// DIR/atdata-api) instead of crates.io versions, so the crate builds against it as written.
    #[arg(long, value_name = "DIR", requires = "crate_name")]
    path_deps: Option<PathBuf>,
}

/// The absolute path of an atdata checkout (a folder holding `atdata-core` and `atdata-api`),
/// so the generated manifest points at it from wherever the crate is written.
fn checkout(dir: &std::path::Path) -> Result<PathBuf, Failure> {
    let absolute = dir
        .canonicalize()
        .map_err(|e| Failure::Unreadable(format!("--path-deps {}: {e}", dir.display())))?;
    for krate in ["atdata-core", "atdata-api"] {
        if !absolute.join(krate).join("Cargo.toml").is_file() {
            return Err(Failure::Unreadable(format!(
                "--path-deps {}: not an atdata checkout (no {krate}/Cargo.toml)",
                dir.display()
            )));
        }
    }
    Ok(absolute)
}

/// The atdata checkout `out` would sit in, if any: the nearest ancestor (of its absolute path;
/// `out` itself may not exist yet) holding `atdata-core` and `atdata-api`.
fn enclosing_checkout(out: &std::path::Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(out).ok()?;
    absolute
        .ancestors()
        .skip(1)
        .find(|dir| {
            ["atdata-core", "atdata-api"]
                .iter()
                .all(|krate| dir.join(krate).join("Cargo.toml").is_file())
        })
        .and_then(|dir| dir.canonicalize().ok())
}

pub fn run(command: LexiconCommand, out: &Output) -> Result<(), Failure> {
    match command {
        LexiconCommand::Validate(args) => validate(&args, out),
        LexiconCommand::Lint(args) => lint(&args, out),
        LexiconCommand::Gen(args) => gen(&args, out),
    }
}

fn gen(args: &GenArgs, out: &Output) -> Result<(), Failure> {
    if let Some(name) = &args.crate_name {
        let valid = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        if !valid {
            usage(format!(
                "--crate {name:?}: a crate name is ASCII letters, digits, '-' and '_'"
            ));
        }
    }
    let krate = match &args.crate_name {
        Some(name) => {
            let mut options = atdata_codegen::CrateOptions::new(name.clone());
            // An explicit checkout wins; otherwise a crate written inside a checkout (an example
            // beside the SDK's own) uses it, so it builds as written there too.
            let dir = match &args.path_deps {
                Some(dir) => Some(checkout(dir)?),
                None => enclosing_checkout(&args.out),
            };
            if let Some(dir) = dir {
                options.atdata = atdata_codegen::Dependency::Checkout(dir);
            }
            Some(options)
        }
        None => None,
    };
    let summary = atdata_codegen::generate_dir(&args.lexicons, &args.out, krate.as_ref())
        .map_err(|e| Failure::Unreadable(format!("generating code: {e}")))?;
    let warnings: Vec<String> = summary.warnings.iter().map(ToString::to_string).collect();
    let json = serde_json::json!({
        "lexicons": summary.documents,
        "files": summary.files,
        "out": args.out.display().to_string(),
        "crate": args.crate_name,
        "path_deps": match krate.as_ref().map(|k| &k.atdata) {
            Some(atdata_codegen::Dependency::Checkout(dir)) => Some(dir.display().to_string()),
            _ => None,
        },
        "warnings": warnings,
    });
    out.emit(&json, || {
        let mut text = format!(
            "generated {} files from {} lexicons into {}",
            summary.files,
            summary.documents,
            args.out.display()
        );
        for warning in &warnings {
            text.push_str(&format!("\nwarning: {warning}"));
        }
        text
    })?;
    Ok(())
}

/// Exits with status 2 and clap's usage-error format.
fn usage(message: String) -> ! {
    clap::Error::raw(clap::error::ErrorKind::InvalidValue, message + "\n").exit()
}

/// What the data is, in words for the output, and the validation target.
fn target<'a>(
    args: &'a ValidateArgs,
    catalog: &Catalog,
    def: &'a DefRef,
) -> (&'static str, Target<'a>) {
    let nsid = def.nsid().as_str();
    let Some(found) = catalog.get(def) else {
        usage(format!(
            "{} is not in the lexicons under {}",
            args.nsid,
            args.lexicons.display()
        ))
    };
    let part = [
        (args.params, "params"),
        (args.input, "input"),
        (args.output, "output"),
        (args.message, "message"),
    ]
    .into_iter()
    .find_map(|(set, name)| set.then_some(name));
    let is_method = def.is_main()
        && matches!(
            found,
            UserType::Query(_) | UserType::Procedure(_) | UserType::Subscription(_)
        );
    match (part, is_method) {
        (Some("params"), true) => ("params", Target::Params(nsid)),
        (Some("input"), true) => ("input", Target::Input(nsid)),
        (Some("output"), true) => ("output", Target::Output(nsid)),
        (Some(_), true) => ("message", Target::Message(nsid)),
        (None, true) => usage(format!(
            "{} is a {}: say which part the data is with --params, --input, --output or \
             --message",
            args.nsid,
            found.type_name()
        )),
        (Some(part), false) => usage(format!(
            "--{part} is for methods, and {} is a {}",
            args.nsid,
            found.type_name()
        )),
        (None, false) if def.is_main() && matches!(found, UserType::Record(_)) => {
            ("record", Target::Record(nsid))
        }
        (None, false) => ("definition", Target::Def(def)),
    }
}

fn validate(args: &ValidateArgs, out: &Output) -> Result<(), Failure> {
    let def: DefRef = args
        .nsid
        .parse()
        .unwrap_or_else(|e| usage(format!("{}: {e}", args.nsid)));
    let mut catalog = Catalog::load_dir(&args.lexicons)
        .map_err(|e| Failure::Unreadable(format!("loading lexicons: {e}")))?;
    // The user's lexicons may refer to official ones (com.atproto.repo.strongRef, …) without
    // copies of them.
    catalog.fill_from(atdata_lexicon::official::catalog());
    let (kind, target) = target(args, &catalog, &def);
    let bytes = read_input(&args.file)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::Invalid(format!("{}: not atproto JSON: {e}", args.file)))?;
    let options = ValidateOptions::default().with_legacy_blobs(args.allow_legacy_blobs);
    let result = catalog
        .validator()
        .with_options(options)
        .validate_all(target, &value);
    // Past the validator's cap errors are only counted: the total is what the user is told.
    let (total, omitted) = result
        .as_ref()
        .err()
        .map_or((0, 0), |e| (e.total(), e.omitted()));
    let errors = result.err().map(|e| e.into_vec()).unwrap_or_default();
    let json = serde_json::json!({
        "file": args.file,
        "nsid": args.nsid,
        "as": kind,
        "valid": errors.is_empty(),
        "errors": errors
            .iter()
            .map(|e| serde_json::json!({ "path": e.path, "message": e.problem.to_string() }))
            .collect::<Vec<_>>(),
        "omitted": omitted,
    });
    out.emit(&json, || {
        if errors.is_empty() {
            format!("valid: {} is a valid {} {kind}", args.file, args.nsid)
        } else {
            let mut lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            if omitted > 0 {
                lines.push(format!("… and {omitted} more"));
            }
            lines.join("\n")
        }
    })?;
    match total {
        0 => Ok(()),
        1 => Err(Failure::Invalid(format!("{}: 1 error", args.file))),
        n => Err(Failure::Invalid(format!("{}: {n} errors", args.file))),
    }
}

fn lint(args: &LintArgs, out: &Output) -> Result<(), Failure> {
    let lints = lint_json_dir(&args.dir)
        .map_err(|e| Failure::Unreadable(format!("reading lexicons: {e}")))?;
    let errors = lints
        .iter()
        .filter(|l| l.severity == Severity::Error)
        .count();
    let warnings = lints.len() - errors;
    let json = serde_json::json!({
        "dir": args.dir.display().to_string(),
        "errors": errors,
        "warnings": warnings,
        "lints": lints
            .iter()
            .map(|l| serde_json::json!({
                "severity": l.severity.to_string(),
                "rule": l.rule.name(),
                "id": l.id,
                "path": l.path,
                "message": l.message,
            }))
            .collect::<Vec<_>>(),
    });
    out.emit(&json, || {
        let mut lines: Vec<String> = lints.iter().map(ToString::to_string).collect();
        lines.push(format!(
            "{}: {errors} errors, {warnings} warnings",
            args.dir.display()
        ));
        lines.join("\n")
    })?;
    match errors {
        0 => Ok(()),
        1 => Err(Failure::Invalid(format!(
            "{}: 1 lint error",
            args.dir.display()
        ))),
        n => Err(Failure::Invalid(format!(
            "{}: {n} lint errors",
            args.dir.display()
        ))),
    }
}
