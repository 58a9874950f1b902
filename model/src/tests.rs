//! The model in `cargo test`: seeded random sequences against the real
//! kernel, the committed fuzz seeds and regression inputs replayed, and the
//! checker's own verdicts on made-up event sets.

use super::bits::{Bits, Flags};
use super::encode::{encode_all, Encode};
use super::inputs::{self, Capacity, InputOp, Timeout, TokenValue};
use super::kernel::{check_poll, Model, Outcome, Seen};
use super::op::{self, Kind, Op, Slot, TokenChoice, TriggerChoice, WAKER_TOKEN};
use super::rng::{random_op, random_ops, Palette, Rng};
use super::targets::Target;
use super::{channel::Action, registration, threads};
use evq::{Backend, Token};
use std::path::{Path, PathBuf};

/// Prints the seed of the run that panicked.
struct Seed(u64);

impl Drop for Seed {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("failing seed: {}", self.0);
        }
    }
}

fn random_registration_sequences(backend: Backend) {
    let (runs, len) = if cfg!(miri) { (10, 30) } else { (4000, 80) };
    let palette = Palette::here();
    for seed in 0..runs {
        let _seed = Seed(seed);
        let ops = random_ops(&mut Rng::new(seed), &palette, len);
        let transcript = registration::run(&ops, backend);
        if std::env::var_os("EVQ_MODEL_SHOW").is_some() {
            eprintln!("seed {seed}:\n{transcript}");
        }
    }
}

/// Fewer runs: every child is a process (`Palette::with_children`).
fn random_sequences_with_children(backend: Backend) {
    let palette = Palette::with_children();
    for seed in 0..200 {
        let _seed = Seed(seed);
        let ops = random_ops(&mut Rng::new(seed), &palette, 80);
        registration::run(&ops, backend);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri spawns no processes")]
fn random_sequences_with_children_agree_with_the_model() {
    random_sequences_with_children(Backend::Epoll);
}

#[test]
#[cfg(feature = "io-uring")]
#[cfg_attr(miri, ignore = "Miri spawns no processes")]
fn random_sequences_with_children_agree_with_the_model_on_io_uring() {
    random_sequences_with_children(Backend::IoUring);
}

#[test]
fn random_registration_sequences_agree_with_the_model() {
    random_registration_sequences(Backend::Epoll);
}

#[test]
#[cfg(feature = "io-uring")]
#[cfg_attr(miri, ignore = "Miri has no io_uring")]
fn random_registration_sequences_agree_with_the_model_on_io_uring() {
    random_registration_sequences(Backend::IoUring);
}

fn random_thread_runs(backend: Backend) {
    let (runs, len) = if cfg!(miri) { (8, 40) } else { (300, 48) };
    let palette = Palette::here();
    for seed in 0..runs {
        let _seed = Seed(seed);
        let mut rng = Rng::new(seed);
        let mut bytes = vec![rng.byte()];
        for _ in 0..len {
            (rng.byte(), random_op(&mut rng, &palette)).encode(&mut bytes);
        }
        let input = threads::decode(&bytes);
        threads::run(&input, backend, threads::Checks::shared_process());
    }
}

#[test]
fn random_thread_runs_keep_their_promises() {
    random_thread_runs(Backend::Epoll);
}

#[test]
#[cfg(feature = "io-uring")]
#[cfg_attr(miri, ignore = "Miri has no io_uring")]
fn random_thread_runs_keep_their_promises_on_io_uring() {
    random_thread_runs(Backend::IoUring);
}

fn random_hostile_inputs(backend: Backend) {
    for seed in 0..300 {
        let _seed = Seed(seed);
        let bytes = Rng::new(seed).bytes(400);
        let ops: Vec<InputOp> = op::decode(&bytes, inputs::MAX_OPS);
        inputs::run(&ops, backend, inputs::Checks::shared_process());
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "files, directories, TCP and a 2 GiB buffer: Miri has none of these"
)]
#[cfg_attr(
    target_env = "musl",
    ignore = "the O_PATH target is opened without O_PATH on musl (strace: \
              open(dir, O_RDONLY|O_LARGEFILE|O_CLOEXEC)), so epoll answers EPERM \
              where the model, written for glibc, expects EBADF"
)]
fn random_hostile_inputs_end_in_clear_errors() {
    random_hostile_inputs(Backend::Epoll);
}

#[test]
#[cfg(feature = "io-uring")]
#[cfg_attr(
    miri,
    ignore = "files, directories, TCP and a 2 GiB buffer: Miri has none of these"
)]
fn random_hostile_inputs_end_in_clear_errors_on_io_uring() {
    random_hostile_inputs(Backend::IoUring);
}

/// The files of `dir` whose names start with `prefix`, sorted; none if the
/// directory is missing (a packaged crate has no `fuzz/`).
fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            path.is_file() && name.starts_with(prefix) && !name.starts_with('.')
        })
        .collect();
    found.sort();
    found
}

/// The cargo-fuzz crate, beside this one in the workspace.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The committed seeds and regression inputs of a fuzz target.
fn committed_inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = fuzz_dir();
    let mut all = files(&fuzz.join("corpus").join(target), "seed-");
    all.extend(files(&fuzz.join("regressions").join(target), ""));
    all
}

/// Replays the committed inputs of `target` on every backend in
/// [`BACKENDS`](crate::BACKENDS) (as the fuzz targets run them).
fn replay(target: &str, run: impl Fn(&[u8], Backend)) {
    for path in committed_inputs(target) {
        let data = std::fs::read(&path).expect("readable input");
        for &backend in crate::BACKENDS {
            eprintln!("replaying {} on {backend:?}", path.display());
            run(&data, backend);
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the seeds use TCP and level triggers, which Miri lacks"
)]
fn registration_seeds_and_regressions_replay() {
    replay("registration", |data, backend| {
        let ops: Vec<Op> = op::decode(data, op::MAX_OPS);
        registration::run(&ops, backend);
    });
}

#[test]
#[cfg_attr(miri, ignore = "threads and blocking polls take Miri minutes per run")]
fn threads_seeds_and_regressions_replay() {
    replay("threads", |data, backend| {
        let input = threads::decode(data);
        threads::run(&input, backend, threads::Checks::shared_process());
    });
}

#[test]
#[cfg_attr(
    miri,
    ignore = "files, directories, TCP and a 2 GiB buffer: Miri has none of these"
)]
#[cfg_attr(
    target_env = "musl",
    ignore = "the O_PATH target is opened without O_PATH on musl (strace: \
              open(dir, O_RDONLY|O_LARGEFILE|O_CLOEXEC)), so epoll answers EPERM \
              where the model, written for glibc, expects EBADF"
)]
fn inputs_seeds_and_regressions_replay() {
    replay("inputs", |data, backend| {
        let ops: Vec<InputOp> = op::decode(data, inputs::MAX_OPS);
        inputs::run(&ops, backend, inputs::Checks::shared_process());
    });
}

#[test]
#[cfg_attr(miri, ignore = "reads fuzz/: Miri isolates the file system")]
fn every_target_has_committed_seeds() {
    for target in ["registration", "threads", "inputs"] {
        let seeds = committed_inputs(target);
        assert!(!seeds.is_empty(), "no seeds for {target}");
    }
}

#[test]
fn encoded_ops_decode_to_themselves() {
    let mut rng = Rng::new(7);
    let ops = random_ops(&mut rng, &Palette::full(), 500);
    assert!(
        op::decode::<Op>(&encode_all(&ops), 1000) == ops,
        "ops changed"
    );
    let inputs: Vec<InputOp> = op::decode(&rng.bytes(4000), 1000);
    assert!(inputs.len() > 50);
    let again: Vec<InputOp> = op::decode(&encode_all(&inputs), 1000);
    assert!(again == inputs, "input ops changed");
}

// The checker's verdicts, on made-up polls: each rule can fail.

const S0: Slot = Slot(0);

fn seen(token: Token, flags: Flags) -> Seen {
    Seen { token, flags }
}

/// A model with a socket pair in slot 0 registered readable with `trigger`
/// and token `T0`, its registration already reported once.
fn registered(trigger: TriggerChoice) -> (Model, Token) {
    let mut model = Model::new();
    model.create(S0, Kind::UnixStream);
    let token = TokenChoice(0).token(S0);
    assert_eq!(model.register(S0, token, 1, trigger), Outcome::Ok);
    model.polled(&[], false);
    (model, token)
}

fn poll_verdict(model: &mut Model, events: &[Seen]) -> Result<(), String> {
    let expected = model.expectations();
    let reported = check_poll(&expected, events, 64)?;
    model.polled(&reported, false);
    Ok(())
}

#[test]
fn the_checker_demands_a_new_edge_once_and_only_once() {
    let (mut model, token) = registered(TriggerChoice::Edge);
    let readable = Flags::READABLE;
    assert!(
        poll_verdict(&mut model, &[seen(token, readable)]).is_err(),
        "nothing happened"
    );
    model.act(S0, Action::PeerWrite(3));
    assert!(
        poll_verdict(&mut model.clone(), &[]).is_err(),
        "the edge was missed"
    );
    poll_verdict(&mut model, &[seen(token, readable)]).unwrap();
    assert!(
        poll_verdict(&mut model, &[seen(token, readable)]).is_err(),
        "reported twice: level, not edge"
    );
    // More data while still readable: the kernel may report it again.
    model.act(S0, Action::PeerWrite(3));
    poll_verdict(&mut model.clone(), &[]).unwrap();
    poll_verdict(&mut model, &[seen(token, readable)]).unwrap();
}

#[test]
fn the_checker_demands_level_events_on_every_poll() {
    let (mut model, token) = registered(TriggerChoice::Level);
    poll_verdict(&mut model, &[]).unwrap();
    model.act(S0, Action::PeerWrite(3));
    for _ in 0..3 {
        assert!(
            poll_verdict(&mut model.clone(), &[]).is_err(),
            "ready, yet silent"
        );
        poll_verdict(&mut model, &[seen(token, Flags::READABLE)]).unwrap();
    }
}

#[test]
fn the_checker_silences_a_fired_oneshot_until_rearmed() {
    let (mut model, token) = registered(TriggerChoice::Oneshot);
    model.act(S0, Action::PeerWrite(3));
    poll_verdict(&mut model, &[seen(token, Flags::READABLE)]).unwrap();
    assert!(poll_verdict(&mut model.clone(), &[seen(token, Flags::READABLE)]).is_err());
    assert_eq!(
        model.register(S0, token, 1, TriggerChoice::Oneshot),
        Outcome::AlreadyRegistered
    );
    assert_eq!(
        model.reregister(S0, token, 1, TriggerChoice::Oneshot),
        Outcome::Ok
    );
    assert!(
        poll_verdict(&mut model.clone(), &[]).is_err(),
        "re-armed while ready"
    );
}

#[test]
fn the_checker_forbids_deregistered_sources_and_wrong_flags() {
    let (mut model, token) = registered(TriggerChoice::Level);
    model.act(S0, Action::PeerWrite(3));
    let wrong = Flags(Flags::READABLE.0 | Flags::WRITABLE.0);
    assert!(poll_verdict(&mut model.clone(), &[seen(token, wrong)]).is_err());
    model.act(S0, Action::ShutdownPeer);
    let closed = Flags(Flags::READABLE.0 | Flags::READ_CLOSED.0);
    assert!(poll_verdict(&mut model.clone(), &[seen(token, Flags::READABLE)]).is_err());
    poll_verdict(&mut model.clone(), &[seen(token, closed)]).unwrap();
    assert_eq!(model.deregister(S0), Outcome::Ok);
    assert!(poll_verdict(&mut model, &[seen(token, closed)]).is_err());
    assert_eq!(model.deregister(S0), Outcome::NotRegistered);
}

#[test]
fn the_checker_lets_a_full_buffer_defer_events() {
    let mut model = Model::new();
    model.wake();
    model.create(S0, Kind::EventFd);
    let token = TokenChoice(1).token(S0);
    assert_eq!(
        model.register(S0, token, 2, TriggerChoice::Edge),
        Outcome::Ok
    );
    let expected = model.expectations();
    let first = check_poll(&expected, &[seen(token, Flags::WRITABLE)], 1).unwrap();
    model.polled(&first, true);
    let expected = model.expectations();
    assert!(
        check_poll(&expected, &[], 1).is_err(),
        "the wake is still due"
    );
    let waker = seen(WAKER_TOKEN, Flags::READABLE);
    assert!(
        check_poll(&expected, &[waker, waker], 2).is_err(),
        "twice in one poll"
    );
    check_poll(&expected, &[waker], 1).unwrap();
}

#[test]
fn readiness_flags_follow_the_epoll_bits() {
    let bits = Bits::HUP | Bits::IN;
    let flags = bits.flags();
    assert_eq!(
        flags.0,
        Flags::READABLE.0 | Flags::READ_CLOSED.0 | Flags::WRITE_CLOSED.0
    );
    assert_eq!(Bits::ERR.flags().0, Flags::ERROR.0 | Flags::WRITE_CLOSED.0);
}

/// Regenerates the committed seed inputs (`cargo test -- --ignored
/// write_seed_corpus`): a few sequences per target.
#[test]
#[ignore = "writes fuzz/corpus/*/seed-*; run by hand"]
fn write_seed_corpus() {
    let corpus = fuzz_dir().join("corpus");
    let write = |target: &str, name: &str, bytes: Vec<u8>| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };
    for seed in 0..8u64 {
        let mut rng = Rng::new(1000 + seed);
        let ops = random_ops(&mut rng, &Palette::with_children(), 40);
        write("registration", &format!("random-{seed}"), encode_all(&ops));
        let mut bytes = vec![seed as u8];
        for _ in 0..32 {
            (rng.byte(), random_op(&mut rng, &Palette::with_children())).encode(&mut bytes);
        }
        write("threads", &format!("random-{seed}"), bytes);
    }
    for (i, kind) in [
        Kind::PipeReader,
        Kind::PipeWriter,
        Kind::UnixStream,
        Kind::EventFd,
        Kind::Tcp,
        Kind::Timer,
        Kind::Signals,
        Kind::Child,
    ]
    .into_iter()
    .enumerate()
    {
        write(
            "registration",
            &format!("lifecycle-{i}"),
            encode_all(&lifecycle(kind)),
        );
    }
    write("inputs", "every-target", encode_all(&every_target()));
    for seed in 0..4u64 {
        write(
            "inputs",
            &format!("random-{seed}"),
            Rng::new(2000 + seed).bytes(300),
        );
    }
}

/// Every trigger on one source of `kind`, through writes, reads, a
/// shutdown, a close of the peer and of the source itself.
fn lifecycle(kind: Kind) -> Vec<Op> {
    let s = Slot(1);
    let poll = Op::Poll { capacity: 3 };
    let mut ops = vec![Op::Create { slot: s, kind }];
    for (i, trigger) in [
        TriggerChoice::Edge,
        TriggerChoice::Level,
        TriggerChoice::Oneshot,
        TriggerChoice::EdgeOneshot,
    ]
    .into_iter()
    .enumerate()
    {
        let token = TokenChoice(i as u8);
        let register = if i == 0 {
            Op::Register {
                slot: s,
                token,
                interest: 3,
                trigger,
            }
        } else {
            Op::Reregister {
                slot: s,
                token,
                interest: 3,
                trigger,
            }
        };
        ops.extend([
            register,
            poll,
            Op::PeerWrite { slot: s, len: 10 },
            poll,
            poll,
            Op::OursWrite { slot: s, len: 20 },
            Op::ReadAll { slot: s },
            poll,
            Op::Wake,
            poll,
        ]);
    }
    ops.extend([
        Op::PeerReadAll { slot: s },
        Op::ShutdownPeer { slot: s },
        poll,
        Op::ClosePeer { slot: s },
        poll,
        Op::Deregister { slot: s },
        Op::Deregister { slot: s },
        Op::Register {
            slot: s,
            token: TokenChoice(5),
            interest: 1,
            trigger: TriggerChoice::Level,
        },
        poll,
        Op::Close { slot: s },
        Op::Create { slot: s, kind },
        Op::Register {
            slot: s,
            token: TokenChoice(5),
            interest: 0x87,
            trigger: TriggerChoice::Edge,
        },
        poll,
    ]);
    ops
}

/// Each target through every call, then polls with the extreme timeouts
/// and capacities.
fn every_target() -> Vec<InputOp> {
    let mut ops = Vec::new();
    for target in Target::ALL {
        ops.extend([
            InputOp::Register {
                target,
                token: TokenValue::Max,
                interest: 0xff,
                trigger: TriggerChoice::Level,
                via_clone: false,
            },
            InputOp::Reregister {
                target,
                token: TokenValue::Any(7),
                interest: 0,
                trigger: TriggerChoice::Edge,
                via_clone: true,
            },
            InputOp::MakeReady { target },
            InputOp::Deregister {
                target,
                via_clone: false,
            },
        ]);
    }
    ops.extend([
        InputOp::ReopenNumbered,
        InputOp::NewWaker {
            token: TokenValue::Zero,
        },
    ]);
    for (timeout, capacity) in [
        (Timeout::Zero, Capacity::Zero),
        (Timeout::Max, Capacity::Small(1)),
        (Timeout::HalfMax, Capacity::Max),
        (Timeout::OverKernelLimit, Capacity::Small(2)),
        (Timeout::Forever, Capacity::Small(0)),
        (Timeout::OneNanosecond, Capacity::Small(64)),
    ] {
        ops.push(InputOp::Poll { timeout, capacity });
    }
    ops.extend([
        InputOp::CloseNumbered,
        InputOp::Wake { which: 0 },
        InputOp::DropWaker { which: 0 },
    ]);
    ops
}

/// The (local, remote) ports of the TCP connections in `TIME_WAIT`
/// (`/proc/net/tcp`, state 06).
fn connections_in_time_wait() -> Vec<(u16, u16)> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let port = |address: &str| {
        let hex = address.rsplit(':').next().unwrap_or("0");
        u16::from_str_radix(hex, 16).unwrap_or(0)
    };
    table
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().collect::<Vec<&str>>())
        .filter(|fields| fields.len() > 3 && fields[3] == "06")
        .map(|fields| (port(fields[1]), port(fields[2])))
        .collect()
}

/// Regression: the first fuzz runs failed after a minute with "bind
/// 127.0.0.1:0: Address already in use": every closed TCP pair held a port
/// in TIME_WAIT for a minute. The harness now closes its connections with
/// an RST (`SO_LINGER` 0), also when a peer closed on its own first.
#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn closed_tcp_sources_leave_no_connection_in_time_wait() {
    use super::real::{End, Source};
    let _shared = super::signals_and_children::run_guard(false);
    let mut connections = Vec::new();
    for round in 0..20 {
        let mut source = Source::open(Kind::Tcp, 0);
        if let (End::Tcp(ours), Some(End::Tcp(peer))) = (&source.ours, &source.peer) {
            let (a, b) = (ours.local_addr().unwrap(), peer.local_addr().unwrap());
            connections.push((a.port(), b.port()));
        }
        if round % 2 == 0 {
            source.apply(Action::ClosePeer);
        }
        drop(source);
    }
    assert_eq!(connections.len(), 20);
    let lingering: Vec<(u16, u16)> = connections_in_time_wait()
        .into_iter()
        .filter(|&(l, r)| connections.contains(&(l, r)) || connections.contains(&(r, l)))
        .collect();
    assert!(lingering.is_empty(), "left in TIME_WAIT: {lingering:?}");
}
