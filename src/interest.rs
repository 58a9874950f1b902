//! What readiness a registration asks for.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Sub, SubAssign};

/// The readiness a registered source should be reported for.
///
/// Combine flags with `|` or [`add`](Interest::add), take them away with
/// `-` or [`remove`](Interest::remove), and ask with
/// [`is_readable`](Interest::is_readable) and friends (mio's names) or
/// [`contains`](Interest::contains). An interest with none of the flags
/// below set is rejected with
/// [`Error::InvalidInput`](crate::Error::InvalidInput), and bits outside them
/// are ignored.
///
/// On epoll, errors and hang-ups are always reported, whatever the
/// interest (the kernel delivers `EPOLLERR` and `EPOLLHUP`
/// unconditionally). On kqueue they arrive as `EV_EOF` and error flags
/// on the events of the directions registered, so a `WRITABLE`-only
/// registration does not learn that the reading side closed.
///
/// # Examples
///
/// ```
/// use evq::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.contains(Interest::READABLE));
/// assert!(both.is_writable());
/// assert_eq!(both - Interest::WRITABLE, Interest::READABLE);
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// assert_eq!(Interest::READABLE.add(Interest::WRITABLE), both);
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, Default)]
pub struct Interest(u8);

impl Interest {
    /// Readable: data to read, a connection to accept, or the peer has
    /// shut down its writing side (`EPOLLIN | EPOLLRDHUP`; `EVFILT_READ`),
    /// the last reported by
    /// [`Event::is_read_closed`](crate::Event::is_read_closed).
    pub const READABLE: Interest = Interest(1 << 0);

    /// Writable: room in the send buffer, or a connect that finished
    /// (`EPOLLOUT`; `EVFILT_WRITE`).
    pub const WRITABLE: Interest = Interest(1 << 1);

    /// Priority data: TCP urgent data, or an exceptional condition on
    /// files such as `/proc/self/mounts` or a tty master (`EPOLLPRI`).
    ///
    /// Only the epoll backend watches it: the kqueue backend on Linux
    /// (`--cfg evq_force_kqueue`) rejects it with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput). On Windows it
    /// asks for `AFD_POLL_RECEIVE_EXPEDITED` (TCP urgent data).
    #[cfg(any(target_os = "linux", target_os = "android", windows))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(target_os = "linux", target_os = "android", windows)))
    )]
    pub const PRIORITY: Interest = Interest(1 << 2);

    /// Every flag this platform has.
    const ALL: u8 = {
        #[cfg(any(target_os = "linux", target_os = "android", windows))]
        let all = Interest::READABLE.0 | Interest::WRITABLE.0 | Interest::PRIORITY.0;
        #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
        let all = Interest::READABLE.0 | Interest::WRITABLE.0;
        all
    };

    /// No flags: not a valid interest to register with, but a start to
    /// add flags to.
    #[inline]
    pub const fn empty() -> Interest {
        Interest(0)
    }

    /// Every flag this platform has.
    #[inline]
    pub const fn all() -> Interest {
        Interest(Interest::ALL)
    }

    /// `self` with the flags of `other` added: `self | other`, usable in
    /// `const`s (mio's name).
    #[inline]
    #[must_use]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without the flags of `other`, or `None` if none would be
    /// left (mio's name and meaning: an interest to register with is
    /// never empty). `self - other` is the same without the check.
    #[inline]
    #[must_use]
    pub const fn remove(self, other: Interest) -> Option<Interest> {
        match self.0 & !other.0 {
            0 => None,
            bits => Some(Interest(bits)),
        }
    }

    /// Whether [`READABLE`](Interest::READABLE) is set.
    #[inline]
    pub const fn is_readable(self) -> bool {
        self.0 & Interest::READABLE.0 != 0
    }

    /// Whether [`WRITABLE`](Interest::WRITABLE) is set.
    #[inline]
    pub const fn is_writable(self) -> bool {
        self.0 & Interest::WRITABLE.0 != 0
    }

    /// Whether `PRIORITY` is set (always `false` where the platform has no
    /// `PRIORITY` flag).
    #[inline]
    pub const fn is_priority(self) -> bool {
        #[cfg(any(target_os = "linux", target_os = "android", windows))]
        return self.0 & Interest::PRIORITY.0 != 0;
        #[cfg(not(any(target_os = "linux", target_os = "android", windows)))]
        return false;
    }

    /// Whether every flag of `other` is set in `self`.
    #[inline]
    pub const fn contains(self, other: Interest) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set in `self`.
    #[inline]
    pub const fn intersects(self, other: Interest) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no flag is set.
    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bits, including any outside the known flags.
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The interest with exactly these bits, known flags or not (unknown
    /// ones are ignored by the registry).
    #[inline]
    pub const fn from_bits_retain(bits: u8) -> Interest {
        Interest(bits)
    }

    /// The interest with the known flags among `bits`, dropping the rest.
    #[inline]
    pub const fn from_bits_truncate(bits: u8) -> Interest {
        Interest(bits & Interest::ALL)
    }

    /// The interest with these bits, or `None` if any is not a known flag.
    #[inline]
    pub const fn from_bits(bits: u8) -> Option<Interest> {
        if bits & !Interest::ALL == 0 {
            Some(Interest(bits))
        } else {
            None
        }
    }
}

/// `Interest` is a [`bitflags`] type: generic bitflags code (and the
/// trait's provided methods, such as [`iter`](bitflags::Flags::iter),
/// [`insert`](bitflags::Flags::insert) and
/// [`from_name`](bitflags::Flags::from_name), with `use bitflags::Flags`)
/// works on it. The inherent [`remove`](Interest::remove) is mio's, which
/// never leaves an empty interest; the trait's in-place one is
/// `bitflags::Flags::remove(&mut interest, other)`.
impl bitflags::Flags for Interest {
    const FLAGS: &'static [bitflags::Flag<Interest>] = &[
        bitflags::Flag::new("READABLE", Interest::READABLE),
        bitflags::Flag::new("WRITABLE", Interest::WRITABLE),
        #[cfg(any(target_os = "linux", target_os = "android", windows))]
        bitflags::Flag::new("PRIORITY", Interest::PRIORITY),
    ];

    type Bits = u8;

    #[inline]
    fn bits(&self) -> u8 {
        self.0
    }

    #[inline]
    fn from_bits_retain(bits: u8) -> Interest {
        Interest(bits)
    }
}

impl BitOr for Interest {
    type Output = Interest;
    #[inline]
    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl BitOrAssign for Interest {
    #[inline]
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl BitAnd for Interest {
    type Output = Interest;
    #[inline]
    fn bitand(self, other: Interest) -> Interest {
        Interest(self.0 & other.0)
    }
}

impl BitAndAssign for Interest {
    #[inline]
    fn bitand_assign(&mut self, other: Interest) {
        self.0 &= other.0;
    }
}

impl Sub for Interest {
    type Output = Interest;
    /// The flags of `self` that are not in `other` (possibly none).
    #[inline]
    fn sub(self, other: Interest) -> Interest {
        Interest(self.0 & !other.0)
    }
}

impl SubAssign for Interest {
    #[inline]
    fn sub_assign(&mut self, other: Interest) {
        self.0 &= !other.0;
    }
}

impl fmt::Debug for Interest {
    /// The flag names joined by ` | `, as mio prints them; unknown bits in
    /// hex; `(empty)` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Interest::READABLE, "READABLE"),
            (Interest::WRITABLE, "WRITABLE"),
            #[cfg(any(target_os = "linux", target_os = "android", windows))]
            (Interest::PRIORITY, "PRIORITY"),
        ];
        let mut separator = "";
        for (flag, name) in names {
            if self.contains(flag) {
                write!(f, "{separator}{name}")?;
                separator = " | ";
            }
        }
        let unknown = self.0 & !Interest::ALL;
        if unknown != 0 {
            write!(f, "{separator}{unknown:#x}")?;
        } else if separator.is_empty() {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_remove_are_usable_in_consts() {
        const BOTH: Interest = Interest::READABLE.add(Interest::WRITABLE);
        const READ: Option<Interest> = BOTH.remove(Interest::WRITABLE);
        const NONE: Option<Interest> = Interest::WRITABLE.remove(BOTH);
        assert_eq!(BOTH, Interest::READABLE | Interest::WRITABLE);
        assert_eq!(READ, Some(Interest::READABLE));
        assert_eq!(NONE, None);
    }

    #[test]
    fn the_is_methods_ask_for_one_flag_each() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert!(both.is_readable() && both.is_writable() && !both.is_priority());
        assert!(!Interest::WRITABLE.is_readable());
        assert!(!Interest::READABLE.is_writable());
        #[cfg(any(target_os = "linux", target_os = "android", windows))]
        assert!(Interest::PRIORITY.is_priority() && !Interest::PRIORITY.is_readable());
    }

    #[test]
    fn removing_unknown_bits_only_leaves_none() {
        let odd = Interest::from_bits_retain(0x80);
        assert_eq!(
            (odd | Interest::READABLE).remove(odd),
            Some(Interest::READABLE)
        );
        assert_eq!(odd.remove(odd), None);
        assert_eq!(Interest::from_bits_truncate(0x81), Interest::READABLE);
        assert_eq!(Interest::from_bits(0x81), None);
        assert_eq!(Interest::from_bits(0x1), Some(Interest::READABLE));
    }

    #[test]
    fn generic_bitflags_code_sees_the_same_flags() {
        use bitflags::Flags;
        let both = Interest::READABLE | Interest::WRITABLE;
        let names: Vec<&str> = both.iter_names().map(|(name, _)| name).collect();
        assert_eq!(names, ["READABLE", "WRITABLE"]);
        assert_eq!(Interest::from_name("WRITABLE"), Some(Interest::WRITABLE));
        assert_eq!(<Interest as Flags>::all(), Interest::all());
        let mut interest = both;
        Flags::remove(&mut interest, Interest::WRITABLE);
        assert_eq!(interest, Interest::READABLE);
        interest.toggle(Interest::WRITABLE);
        assert_eq!(interest, both);
    }

    #[test]
    fn debug_names_the_flags_like_mio() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", Interest::empty()), "(empty)");
        let odd = Interest::from_bits_retain(0x81);
        assert_eq!(format!("{odd:?}"), "READABLE | 0x80");
    }
}
