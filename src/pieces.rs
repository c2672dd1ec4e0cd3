//! A message handed on in pieces, for messages too large to hold twice: a claimed role for a
//! million projects is 378 MB of canonical JSON. Instead of serialising it once into memory,
//! the message is handed on in pieces for every pass over it (produced from the model, or
//! read back from a scratch file the first pass was kept in: [`spooled`]), and each pass can
//! be shared by several consumers at once ([`broadcast`]): one thread hands on the pieces, one
//! thread per consumer (a signer, a signature check) takes them.
//!
//! Ed25519 hashes the message twice to sign (once for the nonce, once for the challenge), and
//! a nonce computed over one message with a challenge over another gives the private key
//! away. So the producer checks that every pass handed on the same pieces (their lengths and
//! a checksum); a consumer whose second pass differs from its first gets an error from the
//! message ([`PiecesError::Changed`]) before it finishes, and a signer makes no signature.
//!
//! This module is a leaf: it imports nothing else of conclave, so metadata, signing,
//! verification and ceremonies can all build on it.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Why a message could not be handed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiecesError {
    /// A pass handed on other bytes than the first (a fault in conclave, or a scratch file
    /// damaged on disk).
    #[error(
        "the message was not the same on the second pass over it (a fault in conclave); \
         nothing was signed"
    )]
    Changed,
    /// The producer stopped before the end of a pass.
    #[error("the message ended early (its producer stopped)")]
    EndedEarly,
    /// Another consumer of the same queue panicked.
    #[error("the message's queue was poisoned")]
    Poisoned,
}

/// Takes a message's pieces, in order.
pub type Sink<'a> = dyn FnMut(&[u8]) + 'a;

/// One consumer of the passes over a message, run on a thread of its own.
pub type Consumer<'a, R> = Box<dyn FnOnce(&dyn Message) -> R + Send + 'a>;

/// Produces the message once, into the sink it is given.
pub type Produce<'a> = dyn FnMut(&mut Sink<'_>) + 'a;

/// A [`Produce`] that may run on another thread.
pub type ProduceSend<'a> = dyn FnMut(&mut Sink<'_>) + Send + 'a;

/// A message handed on in pieces, as often as it is asked for. Every call of
/// [`Message::feed`] hands on the same bytes in the same order, or fails.
pub trait Message {
    /// Hand the whole message to `sink`, in order.
    fn feed(&self, sink: &mut dyn FnMut(&[u8])) -> Result<(), PiecesError>;
}

impl Message for [u8] {
    fn feed(&self, sink: &mut dyn FnMut(&[u8])) -> Result<(), PiecesError> {
        sink(self);
        Ok(())
    }
}

/// The whole message in memory, for signers that cannot take it in pieces.
pub fn collect(message: &dyn Message) -> Result<Vec<u8>, PiecesError> {
    let mut all = Vec::new();
    message.feed(&mut |piece| all.extend_from_slice(piece))?;
    Ok(all)
}

/// Pieces queued per consumer: enough to keep the hashing threads busy, little memory.
const QUEUE: usize = 8;

#[derive(Clone)]
enum Piece {
    Bytes(Arc<[u8]>),
    /// The pass is over; `same` says whether it handed on what the first pass did.
    End {
        same: bool,
    },
}

/// One consumer's view of the passes: each [`Message::feed`] takes the next pass.
struct Passes {
    rx: Mutex<Receiver<Piece>>,
}

impl Message for Passes {
    fn feed(&self, sink: &mut dyn FnMut(&[u8])) -> Result<(), PiecesError> {
        let rx = self.rx.lock().map_err(|_| PiecesError::Poisoned)?;
        loop {
            match rx.recv() {
                Ok(Piece::Bytes(b)) => sink(&b),
                Ok(Piece::End { same: true }) => return Ok(()),
                Ok(Piece::End { same: false }) => {
                    return Err(PiecesError::Changed);
                }
                Err(_) => {
                    return Err(PiecesError::EndedEarly);
                }
            }
        }
    }
}

/// A cheap checksum of a pass: its length and bytes, whatever pieces they came in (a pass
/// read back from a spool comes in other pieces than the one produced). It guards against a
/// producer that is not deterministic (a bug) and a spool damaged on disk, not against an
/// adversary: the message comes from conclave's own memory or its own scratch file.
#[derive(Default, Clone, Copy, Debug)]
struct PassSum {
    len: u64,
    /// Four independent lanes, so that the multiplications overlap: a pass is hundreds of
    /// megabytes, three times over when signing.
    lanes: [u64; 4],
    /// Bytes not yet mixed in (fewer than a block of 32).
    tail: [u8; 32],
}

impl PassSum {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    fn mix(&mut self, block: &[u8]) {
        for (lane, word) in self.lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            *lane = (lane.rotate_left(23) ^ w).wrapping_mul(Self::K);
        }
    }

    fn add(&mut self, mut piece: &[u8]) {
        let held = (self.len % 32) as usize;
        self.len += piece.len() as u64;
        if held > 0 {
            let take = piece.len().min(32 - held);
            self.tail[held..held + take].copy_from_slice(&piece[..take]);
            piece = &piece[take..];
            if held + take < 32 {
                return;
            }
            let block = self.tail;
            self.mix(&block);
        }
        let mut blocks = piece.chunks_exact(32);
        for b in &mut blocks {
            self.mix(b);
        }
        let rest = blocks.remainder();
        self.tail[..rest.len()].copy_from_slice(rest);
    }

    /// The checksum of everything added: the length and the lanes, folded together.
    fn finish(mut self) -> (u64, u64) {
        let held = (self.len % 32) as usize;
        if held > 0 {
            let mut last = [0u8; 32];
            last[..held].copy_from_slice(&self.tail[..held]);
            self.mix(&last);
        }
        let folded = self
            .lanes
            .iter()
            .fold(self.len.wrapping_mul(Self::K), |acc, &l| {
                (acc.rotate_left(29) ^ l).wrapping_mul(Self::K)
            });
        (self.len, folded)
    }
}

/// Produce up to `passes` passes with `produce` (given the pass number, from 0) and hand each
/// piece to `send`, then the end of the pass with whether it handed on what the first pass
/// did. `send` says whether anyone still takes pieces; once nobody does, nothing more is
/// handed on and no further pass is produced. Returns the length of the last pass.
fn hand_on(
    passes: usize,
    produce: &mut dyn FnMut(usize, &mut Sink<'_>),
    send: &mut dyn FnMut(Piece) -> bool,
) -> u64 {
    let mut first: Option<(u64, u64)> = None;
    let mut len = 0;
    for pass in 0..passes {
        let mut sum = PassSum::default();
        let mut open = true;
        produce(pass, &mut |piece| {
            if open {
                sum.add(piece);
                open = send(Piece::Bytes(Arc::from(piece)));
            }
        });
        let sum = sum.finish();
        len = sum.0;
        let same = *first.get_or_insert(sum) == sum;
        if !open || !send(Piece::End { same }) {
            break;
        }
    }
    len
}

/// Run `consumers`, each on its own thread with its own view of the message, while this
/// thread produces the message `passes` times with `produce` (given the pass number, from 0).
/// A consumer that returns stops taking passes. Returns the consumers' results, in order, and
/// the message's length.
pub fn broadcast<R: Send>(
    consumers: Vec<Consumer<'_, R>>,
    passes: usize,
    produce: &mut dyn FnMut(usize, &mut Sink<'_>),
) -> (Vec<R>, u64) {
    if consumers.is_empty() {
        // Nobody to hand a pass to: none is produced.
        return (Vec::new(), 0);
    }
    std::thread::scope(|scope| {
        let mut senders: Vec<Option<SyncSender<Piece>>> = Vec::new();
        let mut handles = Vec::new();
        for consumer in consumers {
            let (tx, rx) = sync_channel(QUEUE);
            senders.push(Some(tx));
            handles.push(scope.spawn(move || {
                let passes = Passes { rx: Mutex::new(rx) };
                consumer(&passes)
            }));
        }
        let len = hand_on(passes, produce, &mut |piece| {
            for slot in senders.iter_mut() {
                // A consumer that has hung up takes no more.
                if let Some(tx) = slot
                    && tx.send(piece.clone()).is_err()
                {
                    *slot = None;
                }
            }
            senders.iter().any(Option::is_some)
        });
        drop(senders);
        let results = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (results, len)
    })
}

/// Run `body` with a producer of the message that produces it with `produce` only once: the
/// first pass is also written to an unnamed scratch file in `dir` (`O_TMPFILE`, so nothing is
/// left behind whatever happens to the process), and every later pass reads it back.
/// Producing a million-project role's canonical form costs more CPU than reading its 378 MB
/// back from the page cache, and signing needs three passes.
///
/// The scratch file holds public metadata, never a secret. Only this process (or one that
/// could equally read its memory) can reach it. A pass read back that differs from the first
/// is caught as a message that changed between passes, like a fault in the producer. Without
/// `dir`, where the directory refuses such a file, or after any error writing or reading it,
/// passes are produced again from `produce`, as they would be without a spool.
pub fn spooled<R>(
    dir: Option<&std::path::Path>,
    produce: &mut ProduceSend<'_>,
    body: impl FnOnce(&mut ProduceSend<'_>) -> R,
) -> R {
    let mut file = dir.and_then(scratch_file);
    // The length of the first pass, once it is kept whole in `file`.
    let mut kept: Option<u64> = None;
    let mut passes = 0;
    let mut pass = |sink: &mut Sink<'_>| {
        passes += 1;
        match (&file, kept) {
            (Some(f), Some(len)) => replay(f, len, produce, sink),
            (Some(_), None) if passes == 1 => {
                let mut written = Some(0u64);
                produce(&mut |piece| {
                    sink(piece);
                    if let (Some(n), Some(f)) = (written, file.as_mut()) {
                        written = std::io::Write::write_all(f, piece)
                            .ok()
                            .map(|()| n + piece.len() as u64);
                    }
                });
                kept = written;
            }
            _ => produce(sink),
        }
    };
    body(&mut pass)
}

/// An unnamed file in `dir`, readable and writable by this process alone; `None` if the
/// directory or its filesystem does not allow one.
fn scratch_file(dir: &std::path::Path) -> Option<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    rustix::fs::open(
        dir,
        OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
        Mode::RUSR | Mode::WUSR,
    )
    .ok()
    .map(std::fs::File::from)
}

/// The pieces a spool is read back in.
const REPLAY_BLOCK: usize = 1 << 20;

/// Hand on the `len` bytes kept in `file`, in pieces; if reading fails part of the way, the
/// rest is produced again with `produce` (skipping what was already handed on).
fn replay(file: &std::fs::File, len: u64, produce: &mut Produce<'_>, sink: &mut Sink<'_>) {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; REPLAY_BLOCK];
    let mut done = 0u64;
    while done < len {
        let want = buf
            .len()
            .min(usize::try_from(len - done).unwrap_or(usize::MAX));
        match file.read_at(&mut buf[..want], done) {
            Ok(n) if n > 0 => {
                sink(&buf[..n]);
                done += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            _ => break,
        }
    }
    if done < len {
        let mut skip = done;
        produce(&mut |piece| {
            let from = usize::try_from(skip.min(piece.len() as u64)).unwrap_or(piece.len());
            skip -= from as u64;
            if from < piece.len() {
                sink(&piece[from..]);
            }
        });
    }
}

/// Run `consume` on this thread over a message whose passes `produce` (given the pass number,
/// from 0) hands on from another thread, at most `passes` of them: the producing and the
/// consuming overlap, as [`broadcast`] does for consumers that can move to other threads
/// (a signer holding a token session may not). Each pass is checked to be the same as the
/// first, as there.
pub fn serve<R>(
    passes: usize,
    produce: &mut (dyn FnMut(usize, &mut Sink<'_>) + Send),
    consume: impl FnOnce(&dyn Message) -> R,
) -> R {
    let (tx, rx) = sync_channel(QUEUE);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            hand_on(passes, produce, &mut |piece| tx.send(piece).is_ok());
        });
        let passes = Passes { rx: Mutex::new(rx) };
        let result = consume(&passes);
        // Hang up, so that a producer still producing stops handing on.
        drop(passes);
        if let Err(e) = producer.join() {
            std::panic::resume_unwind(e);
        }
        result
    })
}

/// A message in uneven pieces for tests, here and where signers take it.
#[cfg(test)]
pub(crate) mod testing {
    use super::Sink;

    /// A message in uneven pieces, the same on every pass.
    pub(crate) fn pieces(pass_changes: Option<usize>) -> impl FnMut(usize, &mut Sink<'_>) {
        move |pass, sink| {
            for i in 0..50u32 {
                let mut piece = vec![(i % 251) as u8; (i as usize * 37) % 1000 + 1];
                if pass_changes == Some(pass) && i == 17 {
                    piece[0] ^= 1;
                }
                sink(&piece);
            }
        }
    }

    pub(crate) fn whole() -> Vec<u8> {
        let mut all = Vec::new();
        pieces(None)(0, &mut |p| all.extend_from_slice(p));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{pieces, whole};
    use super::*;

    #[test]
    fn every_consumer_is_served_the_same_passes_and_a_changed_pass_is_an_error() {
        let twice = |m: &dyn Message| -> Result<Vec<u8>, PiecesError> {
            let first = collect(m)?;
            assert_eq!(collect(m)?, first);
            Ok(first)
        };
        let consumers: Vec<Consumer<'_, _>> = vec![Box::new(twice), Box::new(twice)];
        let (all, len) = broadcast(consumers, 2, &mut pieces(None));
        assert_eq!(len, whole().len() as u64);
        for one in all {
            assert_eq!(one.unwrap(), whole());
        }
        let consumers: Vec<Consumer<'_, _>> = vec![Box::new(twice)];
        let (changed, _) = broadcast(consumers, 2, &mut pieces(Some(1)));
        assert_eq!(
            changed.into_iter().next().unwrap(),
            Err(PiecesError::Changed)
        );
    }

    #[test]
    fn a_consumer_on_this_thread_is_served_passes_from_another() {
        // Not Send: the consumer stays on this thread.
        let calls = std::rc::Rc::new(std::cell::Cell::new(0));
        let got = serve(2, &mut pieces(None), |m| {
            calls.set(calls.get() + 1);
            collect(m).and_then(|a| collect(m).map(|b| (a, b)))
        });
        let (a, b) = got.unwrap();
        assert_eq!((a.as_slice(), b.as_slice()), (&whole()[..], &whole()[..]));
        assert_eq!(calls.get(), 1);
        let changed = serve(2, &mut pieces(Some(1)), |m| {
            collect(m).and_then(|_| collect(m))
        });
        assert_eq!(changed, Err(PiecesError::Changed));
        // A consumer that takes one pass of two, or none, does not hold the producer up.
        assert_eq!(
            serve(2, &mut pieces(None), |m| collect(m).unwrap()),
            whole()
        );
        assert_eq!(serve(3, &mut pieces(None), |_| 7), 7);
    }

    #[test]
    fn the_pass_checksum_depends_on_the_bytes_not_on_the_pieces() {
        let message = whole();
        let sum_of = |pieces: &mut dyn Iterator<Item = &[u8]>| {
            let mut sum = PassSum::default();
            for p in pieces {
                sum.add(p);
            }
            sum.finish()
        };
        let one = sum_of(&mut std::iter::once(&message[..]));
        for size in [1, 3, 7, 8, 9, 31, 32, 33, 1000, 4096] {
            assert_eq!(sum_of(&mut message.chunks(size)), one, "pieces of {size}");
        }
        let mut changed = message.clone();
        changed[12_345] ^= 0x20;
        assert_ne!(sum_of(&mut changed.chunks(1000)), one);
        assert_ne!(sum_of(&mut message[..message.len() - 1].chunks(7)), one);
        let mut longer = message.clone();
        longer.push(0);
        assert_ne!(sum_of(&mut longer.chunks(8)), one);
    }

    #[test]
    fn a_spooled_message_is_produced_once_and_read_back_alike() {
        let dir = std::env::temp_dir();
        let message = whole();
        for spool_dir in [
            Some(dir.as_path()),
            None,
            Some(std::path::Path::new("/no/such/dir")),
        ] {
            let mut produced = 0;
            let mut base = pieces(None);
            let mut produce = |sink: &mut Sink<'_>| {
                produced += 1;
                base(0, sink);
            };
            let passes: Vec<Vec<u8>> = spooled(spool_dir, &mut produce, |pass| {
                (0..3)
                    .map(|_| {
                        let mut all = Vec::new();
                        pass(&mut |p| all.extend_from_slice(p));
                        all
                    })
                    .collect()
            });
            for p in &passes {
                assert_eq!(p, &message, "{spool_dir:?}");
            }
            // With a directory that takes an unnamed file, only the first pass is produced.
            let expected = if spool_dir == Some(dir.as_path()) {
                1
            } else {
                3
            };
            assert_eq!(produced, expected, "{spool_dir:?}");
        }
    }

    #[test]
    fn a_spool_cut_short_is_finished_from_the_producer() {
        use std::io::Write as _;
        let message = whole();
        for kept in [0, 1, 999, message.len() / 2, message.len() - 1] {
            let mut file = scratch_file(&std::env::temp_dir()).expect("an unnamed file in /tmp");
            file.write_all(&message[..kept]).unwrap();
            let mut base = pieces(None);
            let mut again = Vec::new();
            replay(
                &file,
                message.len() as u64,
                &mut |sink| base(0, sink),
                &mut |p| again.extend_from_slice(p),
            );
            assert_eq!(again, message, "{kept} bytes kept");
        }
    }
}
