//! Rehearse YubiKey enrolment and signing without a YubiKey: puts an emulated YubiKey (PIV,
//! firmware 5.4.3, the factory management key) into vsmartcard's virtual reader, so a
//! conclave built with `--features yubikey` can enrol and sign with it through pcscd exactly
//! as with a real one. Its keys live in this process's memory and vanish when it exits.
//!
//! ```sh
//! sudo apt-get install pcscd vsmartcard-vpcd     # then restart pcscd so it loads vpcd
//! cargo run --example piv_emulator -- --serial 12345678 --pin 314159 --ca-out emulator-ca.pem
//! ```
//!
//! `--ca-out` writes the emulator test CA (NOT Yubico's) for `conclave key attest RECORD
//! --ca-cert emulator-ca.pem`. The card is the same code the test suite uses
//! (tests/support/piv_card.rs). Stop it with Ctrl-C (the card is then "removed").

#[path = "../tests/support/piv_card.rs"]
mod piv_card;

use std::process::ExitCode;

fn usage() -> ExitCode {
    eprintln!(
        "usage: piv_emulator --serial N --pin PIN [--port 35963] [--ca-out FILE]\n\
         PIN: 6-8 characters (the emulated card's PIN; a rehearsal value, not a real one)"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut serial, mut pin, mut port, mut ca_out) = (None, None, 35963u16, None);
    while let Some(a) = args.next() {
        let mut value = || args.next();
        match a.as_str() {
            "--serial" => serial = value().and_then(|v| v.parse::<u32>().ok()),
            "--pin" => pin = value(),
            "--port" => match value().and_then(|v| v.parse().ok()) {
                Some(p) => port = p,
                None => return usage(),
            },
            "--ca-out" => ca_out = value(),
            _ => return usage(),
        }
    }
    let (Some(serial), Some(pin)) = (serial, pin) else {
        return usage();
    };
    if !(6..=8).contains(&pin.len()) || serial == 0 {
        return usage();
    }
    let card = piv_card::PivCard::new(piv_card::CardConfig::new(serial, &pin));
    if let Some(path) = ca_out {
        let pem = piv_card::pem("CERTIFICATE", &card.ca().ca_cert_der);
        if let Err(e) = std::fs::write(&path, pem) {
            eprintln!("error: {path}: cannot write: {e}");
            return ExitCode::from(2);
        }
        eprintln!("Wrote the emulator test CA (NOT Yubico's) to {path}.");
    }
    let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(card)));
    let _emulator = match piv_card::Emulator::connect(port, slot) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot plug the card into vpcd on 127.0.0.1:{port}: {e}");
            eprintln!(
                "hint: install vsmartcard-vpcd and (re)start pcscd so it loads the vpcd reader \
                 (`sudo pcscd` or `sudo systemctl restart pcscd`)"
            );
            return ExitCode::from(3);
        }
    };
    eprintln!(
        "Emulated YubiKey serial {serial} is in the virtual reader (port {port}). Ctrl-C removes it."
    );
    loop {
        std::thread::park();
    }
}
