//! `conclave qr show FILE` and `conclave qr read -o SIGFILE`: carrying signatures and request
//! digests across the air gap as QR codes and short texts (see `conclave::optical`).

use std::io::{BufRead, IsTerminal, Read};
use std::path::{Path, PathBuf};

use conclave::ceremony::{self, DetachedSignature, review};
use conclave::display::escape;
use conclave::optical::{self, RequestDigest, Transfer};

use crate::cli::{Failure, chain, exit, read_file, read_metadata, shown};

/// Carry a signature or a request digest across the air gap without a USB stick.
///
/// `qr show` draws a QR code in the terminal, with the same content as a text line starting
/// CONCLAVE1: (which can also be typed). `qr read` takes that text from a barcode scanner
/// acting as a keyboard (or typed by hand) and writes the identical signature file.
#[derive(clap::Subcommand)]
pub enum QrCommand {
    Show(ShowArgs),
    Read(ReadArgs),
}

/// Show a signature file, or a draft's request digest, as a QR code and text.
///
/// For a signature file (from `conclave sign`): the QR code and text carry the whole file;
/// `qr read` on the other machine writes it back byte for byte. For draft metadata: the
/// request digest (role, version, payload SHA-256), also as grouped hex and PGP words to
/// compare aloud with what the signing officers see.
#[derive(clap::Args)]
pub struct ShowArgs {
    /// A signature file or draft metadata.
    file: PathBuf,
    /// The draft's role name, when its file name does not say (e.g. claimed for draft.json).
    #[arg(long, value_name = "NAME")]
    role: Option<String>,
    #[command(flatten)]
    look: Look,
}

/// How the QR code is drawn.
#[derive(clap::Args, Clone, Copy)]
pub struct Look {
    /// Draw dark modules as blocks, for dark text on a light terminal background (by default
    /// light modules are drawn, for the usual light-on-dark terminal). Use it if the code
    /// does not scan.
    #[arg(long)]
    pub dark_on_light: bool,
}

/// Read a CONCLAVE1: text (scanned or typed) and write the signature file it carries.
///
/// Reads one line from standard input; a barcode scanner acting as a keyboard types it and
/// presses Enter. A text with a bad checksum (mistyped or misread) is refused and nothing is
/// written. A request digest is printed for comparison instead.
#[derive(clap::Args)]
pub struct ReadArgs {
    /// The signature file to create (it must not exist yet).
    #[arg(short = 'o', long = "output", value_name = "SIGFILE")]
    output: Option<PathBuf>,
}

pub fn run(cmd: QrCommand) -> Result<u8, Failure> {
    match cmd {
        QrCommand::Show(a) => show(a),
        QrCommand::Read(a) => read(a),
    }
}

/// Print the QR code and the text on stdout.
pub fn print_qr(text: &str, look: Look) -> Result<(), Failure> {
    let lines =
        optical::qr_lines(text, look.dark_on_light).map_err(|e| Failure::failed(chain(&e)))?;
    for l in lines {
        println!("{l}");
    }
    println!("{text}");
    Ok(())
}

fn show(a: ShowArgs) -> Result<u8, Failure> {
    let bytes = read_file(&a.file)?;
    if let Ok(sig) = DetachedSignature::parse(&bytes) {
        let text = optical::encode_signature(&bytes)
            .map_err(|e| Failure::failed(format!("{}: {}", shown(&a.file), chain(&e))))?;
        eprintln!(
            "Signature by {} over {} version {} ({} characters). Scan it with `conclave qr read -o SIGFILE` on the other machine:",
            sig.signature.keyid,
            escape(&sig.role),
            sig.version,
            text.len()
        );
        print_qr(&text, a.look)?;
        return Ok(exit::OK);
    }
    let md = read_metadata(&a.file)
        .map_err(|f| f.hint("give a signature file (from `conclave sign`) or draft metadata"))?;
    let name = a.file.file_name().map(|n| n.to_string_lossy().into_owned());
    let role = a
        .role
        .clone()
        .unwrap_or_else(|| ceremony::role_name(&md, name.as_deref()));
    let req = RequestDigest {
        role,
        version: md.common().version.get(),
        payload_sha256: ceremony::detached::payload_digest(&md.signed_bytes()),
    };
    let text = optical::encode_request(&req)
        .map_err(|e| Failure::failed(format!("{}: {}", shown(&a.file), chain(&e))))?;
    eprintln!(
        "Request digest of {}: role {}, version {}. Compare it aloud with what each officer's `conclave sign` shows:",
        shown(&a.file),
        escape(&req.role),
        req.version
    );
    print_qr(&text, a.look)?;
    print_digest(&req);
    Ok(exit::OK)
}

fn print_digest(req: &RequestDigest) {
    let (groups, words) = review::digest_for_reading(&req.payload_sha256);
    println!("{groups}");
    for w in words {
        println!("{w}");
    }
}

fn read(a: ReadArgs) -> Result<u8, Failure> {
    if let Some(out) = &a.output {
        conclave::ceremony::overwrite::refuse_any(out)?;
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("Scan the QR code now (or type the CONCLAVE1: text), then press Enter:");
    }
    let mut line = String::new();
    stdin
        .lock()
        .take(4096)
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
    if line.trim().is_empty() {
        return Err(Failure {
            message: "nothing was read; nothing was written".into(),
            hint: None,
            code: exit::CANCELLED,
        });
    }
    let transfer = optical::decode(&line).map_err(|e| {
        use optical::OpticalError as E;
        let f = Failure::failed(format!(
            "the scanned text: {}; nothing was written",
            chain(&e)
        ));
        match e {
            // The checksum held: the text was made like this, not misread.
            E::Role(_) | E::MalformedSignature | E::NotSignatureFile(_) | E::Inconsistent => f
                .hint("the text was read correctly but does not hold a usable signature: do not use it; ask for the signature file itself"),
            _ => f.hint("scan the code again; if typing, check each character against the screen"),
        }
    })?;
    match transfer {
        Transfer::Signature(sig) => {
            let Some(out) = &a.output else {
                return Err(Failure::usage(
                    "this is a signature: give -o SIGFILE to write it",
                ));
            };
            write_new(out, &sig.to_bytes())?;
            eprintln!(
                "Wrote the signature by {} over {} version {} to {}. Next: `conclave merge` checks it against the draft.",
                sig.signature.keyid,
                escape(&sig.role),
                sig.version,
                shown(out)
            );
            Ok(exit::OK)
        }
        Transfer::Request(req) => {
            if a.output.is_some() {
                return Err(Failure::usage(
                    "this is a request digest, not a signature; nothing was written",
                )
                .hint("run without -o to print the digest"));
            }
            eprintln!(
                "Request digest: role {}, version {}. Compare it with the digest `conclave sign` shows before you sign:",
                escape(&req.role),
                req.version
            );
            print_digest(&req);
            Ok(exit::OK)
        }
    }
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    conclave::ceremony::overwrite::refuse_any(path)?;
    crate::cli::write_new_output(path, bytes)
}
