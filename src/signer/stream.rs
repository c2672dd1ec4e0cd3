//! Signing over a message in pieces ([`crate::pieces`]): several signers share the passes
//! over one message, each on a thread of its own, and every new signature is checked over one
//! more pass before it is used.

use crate::metadata::{Key, Signature};
use crate::pieces::{Consumer, Message, Produce, broadcast};
use crate::signer::{SignError, Signer};

/// Sign the message `produce` writes with every signer at once, two passes over it shared by
/// all (see the module documentation). The signatures are not yet checked: [`check_all`]
/// does that over the bytes as they are written out.
pub(crate) fn sign_all(
    signers: &[&(dyn Signer + Sync)],
    produce: &mut Produce<'_>,
) -> (Vec<Result<Vec<u8>, SignError>>, u64) {
    let consumers: Vec<Consumer<'_, Result<Vec<u8>, SignError>>> = signers
        .iter()
        .map(|s| {
            let s = *s;
            Box::new(move |m: &dyn Message| s.sign_message(m)) as Box<_>
        })
        .collect();
    broadcast(consumers, 2, &mut |_, sink| produce(sink))
}

/// Check each raw signature against its key over one more pass of the message, the pass
/// `produce` also writes out. Returns the signatures as they enter metadata.
pub(crate) fn check_all(
    signed: &[(&Key, Vec<u8>)],
    produce: &mut Produce<'_>,
) -> Result<Vec<Signature>, SignError> {
    let consumers: Vec<Consumer<'_, Result<Signature, SignError>>> = signed
        .iter()
        .map(|(key, raw)| {
            let (key, raw) = (*key, raw.as_slice());
            Box::new(move |m: &dyn Message| super::checked(key, raw, |sink| m.feed(sink))) as Box<_>
        })
        .collect();
    let (results, _) = broadcast(consumers, 1, &mut |_, sink| produce(sink));
    results.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pieces::testing::{pieces, whole};
    use crate::pieces::{Consumer, Message, broadcast, collect, serve, spooled};
    use crate::signer::{Ed25519Signer, P256Signer};

    #[test]
    fn streamed_signatures_equal_signatures_over_the_whole_message() {
        let ed = Ed25519Signer::from_seed(&[9; 32]);
        let ec = P256Signer::from_scalar(&[5; 32]).unwrap();
        let signers: [&(dyn Signer + Sync); 2] = [&ed, &ec];
        let mut produce = pieces(None);
        let (raw, len) = sign_all(&signers, &mut |sink| produce(0, sink));
        let message = whole();
        assert_eq!(len, message.len() as u64);
        let raw: Vec<Vec<u8>> = raw.into_iter().map(Result::unwrap).collect();
        // Ed25519 is deterministic: the same signature as over the message in one piece.
        assert_eq!(raw[0], ed.sign_raw(&message).unwrap());
        for (signer, sig) in signers.iter().zip(&raw) {
            signer
                .public_key()
                .verify(&message, &hex::encode(sig))
                .unwrap();
        }
        let pairs: Vec<(&Key, Vec<u8>)> = signers
            .iter()
            .map(|s| s.public_key())
            .zip(raw.clone())
            .collect();
        let checked = check_all(&pairs, &mut |sink| produce(0, sink)).unwrap();
        assert_eq!(checked[0].keyid, ed.public_key().keyid());
        assert_eq!(checked[1].sig, hex::encode(&raw[1]));
    }

    #[test]
    fn signing_from_a_spool_gives_the_signature_over_the_whole_message() {
        let ed = Ed25519Signer::from_seed(&[9; 32]);
        let signers: [&(dyn Signer + Sync); 1] = [&ed];
        let mut base = pieces(None);
        let (raw, _) = spooled(
            Some(&std::env::temp_dir()),
            &mut |sink| base(0, sink),
            |pass| sign_all(&signers, pass),
        );
        let raw = raw.into_iter().next().unwrap().unwrap();
        assert_eq!(raw, ed.sign_raw(&whole()).unwrap());
    }

    #[test]
    fn a_signer_on_this_thread_is_served_passes_from_another() {
        let ed = Ed25519Signer::from_seed(&[9; 32]);
        // Not Send: the consumer stays on this thread.
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let raw = serve(2, &mut pieces(None), |m| {
            calls.set(calls.get() + 1);
            ed.sign_message(m)
        });
        assert_eq!(raw.unwrap(), ed.sign_raw(&whole()).unwrap());
        assert_eq!(calls.get(), 1);
        // A second pass unlike the first: no signature.
        let err = serve(2, &mut pieces(Some(1)), |m| ed.sign_message(m)).unwrap_err();
        assert!(err.to_string().contains("not the same"), "{err}");
        // A consumer that takes one pass of two, or none, does not hold the producer up.
        let one = serve(2, &mut pieces(None), |m| collect(m).unwrap());
        assert_eq!(one, whole());
        assert_eq!(serve(3, &mut pieces(None), |_| 7), 7);
    }

    #[test]
    fn a_second_pass_that_differs_from_the_first_yields_no_signature() {
        let ed = Ed25519Signer::from_seed(&[9; 32]);
        let mut produce = pieces(Some(1));
        let consumers: Vec<Consumer<'_, Result<Vec<u8>, SignError>>> =
            vec![Box::new(|m: &dyn Message| ed.sign_message(m))];
        let (raw, _) = broadcast(consumers, 2, &mut produce);
        let err = raw.into_iter().next().unwrap().unwrap_err();
        assert!(err.to_string().contains("not the same"), "{err}");
    }

    #[test]
    fn a_signature_over_another_message_fails_the_streamed_check() {
        let ed = Ed25519Signer::from_seed(&[9; 32]);
        let ec = P256Signer::from_scalar(&[5; 32]).unwrap();
        for signer in [&ed as &dyn Signer, &ec] {
            let raw = signer.sign_raw(b"something else").unwrap();
            let mut produce = pieces(None);
            let err =
                check_all(&[(signer.public_key(), raw)], &mut |sink| produce(0, sink)).unwrap_err();
            assert!(matches!(err, SignError::SelfCheckFailed { .. }), "{err}");
        }
    }
}
