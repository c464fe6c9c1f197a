//! The connections of one native listener: a slab of small records addressed by an id that
//! JavaScript keeps (slot in the low 21 bits, a generation above), so an id of a closed
//! connection never reaches the socket that reused its slot.
//!
//! Ownership: a record owns its descriptor from accept to close. A connection JavaScript knows
//! of (it has sent bytes) and that closes on the kernel's side keeps its slot until the batch
//! telling JavaScript has been handled (`Dead` -> `release_dead`); one JavaScript closes itself
//! is freed at once (JavaScript forgets the id in the same call).

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use super::addr::Peer;
use super::outbuf::OutBuf;

pub const SLOT_BITS: u32 = 21;
pub const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;
const GEN_MASK: u32 = (1 << (31 - SLOT_BITS)) - 1;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Free,
    /// Accepted; JavaScript has not seen it (no bytes yet).
    Fresh,
    /// JavaScript holds a link for it.
    Open,
    /// Our side is shut (FIN sent, or sent once the output drains); reads are discarded.
    Ending,
    /// Closed on the kernel's side; the slot waits until JavaScript was told.
    Dead,
}

/// One connection: about 72 bytes, plus an output buffer only while a write is pending and a
/// partial frame only while one is arriving.
pub struct Conn {
    pub fd: i32,
    pub gen: u16,
    pub state: State,
    /// JavaScript asked to stop reading.
    pub paused: bool,
    /// Shut our side once the output drains (end() with writes pending).
    pub end_after_flush: bool,
    /// The epoll events registered for the descriptor.
    pub armed: u32,
    /// Milliseconds (the listener's clock, wrapping) when accepted, or when our side was shut.
    pub since: u32,
    pub peer: Peer,
    pub out: Option<Box<OutBuf>>,
    /// MQTT framing done here (JavaScript asked, for an online MQTT connection): the largest
    /// packet accepted; 0 = off (JavaScript gets the bytes as they come and frames them itself).
    pub frame_limit: u32,
    /// MQTT 5 PUBLISH layout (properties) when framing.
    pub frame_v5: bool,
    /// The start of a frame whose rest has not arrived yet (framing on only).
    pub partial: Option<Box<Vec<u8>>>,
}

impl Conn {
    fn free(gen: u16) -> Conn {
        Conn {
            fd: -1,
            gen,
            state: State::Free,
            paused: false,
            end_after_flush: false,
            armed: 0,
            since: 0,
            peer: Peer::default(),
            out: None,
            frame_limit: 0,
            frame_v5: false,
            partial: None,
        }
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.out.as_ref().map_or(0, |o| o.pending())
    }
}

/// The id JavaScript holds for `slot` at generation `gen`.
pub fn make_id(slot: u32, gen: u16) -> i32 {
    (slot | ((gen as u32 & GEN_MASK) << SLOT_BITS)) as i32
}

/// All connections of a listener.
#[derive(Default)]
pub struct Conns {
    slots: Vec<Conn>,
    /// Free slots, reused oldest first: a freed slot keeps its last peer (for JavaScript's late
    /// readers of a closed link's address) as long as possible.
    free: VecDeque<u32>,
    dead: Vec<u32>,
    /// Descriptors open (every state but Free and Dead).
    pub open: u32,
    /// Descriptors open in every listener sharing this counter (--max-connections is global).
    pub total: Rc<Cell<u32>>,
}

impl Conns {
    /// No connections yet; `total` is shared with the other listeners.
    pub fn new(total: Rc<Cell<u32>>) -> Conns {
        Conns { total, ..Conns::default() }
    }

    /// Files a freshly accepted descriptor; returns its id.
    pub fn insert(&mut self, fd: i32, peer: Peer, now: u32) -> i32 {
        let slot = match self.free.pop_front() {
            Some(s) => s,
            None => {
                self.slots.push(Conn::free(0));
                (self.slots.len() - 1) as u32
            }
        };
        let c = &mut self.slots[slot as usize];
        let gen = c.gen;
        *c = Conn { fd, state: State::Fresh, since: now, peer, ..Conn::free(gen) };
        self.open += 1;
        self.total.set(self.total.get() + 1);
        make_id(slot, gen)
    }

    /// The live connection with this id (not Free, not Dead), if any.
    pub fn get(&mut self, id: i32) -> Option<&mut Conn> {
        if id < 0 {
            return None;
        }
        let id = id as u32;
        let c = self.slots.get_mut((id & SLOT_MASK) as usize)?;
        let live = c.state != State::Free && c.state != State::Dead;
        (live && (c.gen as u32 & GEN_MASK) == id >> SLOT_BITS).then_some(c)
    }

    /// The peer of a connection, open or closed, until its slot is reused.
    pub fn peer(&self, id: i32) -> Option<Peer> {
        let id = u32::try_from(id).ok()?;
        let c = self.slots.get((id & SLOT_MASK) as usize)?;
        // A free slot's generation is one past its last connection's.
        let gen = if c.state == State::Free { c.gen.wrapping_sub(1) } else { c.gen };
        ((gen as u32 & GEN_MASK) == id >> SLOT_BITS).then_some(c.peer)
    }

    /// The connection's descriptor was closed: JavaScript already forgot it (`tell` false), or
    /// will be told in the coming batch (`tell` true: the slot waits for `release_dead`).
    pub fn closed(&mut self, id: i32, tell: bool) {
        let slot = id as u32 & SLOT_MASK;
        let c = &mut self.slots[slot as usize];
        c.fd = -1;
        c.out = None;
        c.partial = None;
        self.open -= 1;
        self.total.set(self.total.get().saturating_sub(1));
        if tell {
            c.state = State::Dead;
            self.dead.push(slot);
        } else {
            self.release(slot);
        }
    }

    fn release(&mut self, slot: u32) {
        let c = &mut self.slots[slot as usize];
        *c = Conn { peer: c.peer, ..Conn::free(c.gen.wrapping_add(1)) };
        self.free.push_back(slot);
    }

    /// Frees the slots of connections JavaScript has now been told are closed.
    pub fn release_dead(&mut self) {
        while let Some(slot) = self.dead.pop() {
            self.release(slot);
        }
    }

    /// Ids of connections in `state` for which `pick(conn)` holds.
    pub fn ids_where(&self, pick: impl Fn(&Conn) -> bool) -> Vec<i32> {
        self.slots.iter().enumerate().filter(|(_, c)| c.state != State::Free && c.state != State::Dead && pick(c)).map(|(s, c)| make_id(s as u32, c.gen)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_id_never_reaches_the_connection_that_reuses_its_slot() {
        let mut t = Conns::default();
        let a = t.insert(10, Peer::default(), 0);
        assert_eq!(t.get(a).map(|c| c.fd), Some(10));
        t.closed(a, false);
        assert!(t.get(a).is_none());
        let b = t.insert(11, Peer::default(), 0);
        assert_eq!(a as u32 & SLOT_MASK, b as u32 & SLOT_MASK, "the slot is reused");
        assert_ne!(a, b);
        assert!(t.get(a).is_none(), "the old id is refused");
        assert_eq!(t.get(b).map(|c| c.fd), Some(11));
        assert_eq!(t.open, 1);
    }

    #[test]
    fn a_slot_closed_by_the_kernel_is_reused_only_after_javascript_was_told() {
        let mut t = Conns::default();
        let a = t.insert(10, Peer::default(), 0);
        t.closed(a, true);
        assert!(t.get(a).is_none(), "dead connections take no more calls");
        assert!(t.peer(a).is_some(), "but their peer is still known while JavaScript is told");
        let b = t.insert(11, Peer::default(), 0);
        assert_ne!(a as u32 & SLOT_MASK, b as u32 & SLOT_MASK, "the dead slot is not reused yet");
        t.release_dead();
        let c = t.insert(12, Peer::default(), 0);
        assert_eq!(a as u32 & SLOT_MASK, c as u32 & SLOT_MASK);
        assert_eq!(t.open, 2);
    }

    #[test]
    fn a_closed_connections_peer_is_known_until_its_slot_is_reused_oldest_free_first() {
        let mut t = Conns::default();
        let peer = |port: u16| Peer { port, ..Peer::default() };
        let a = t.insert(10, peer(1001), 0);
        let b = t.insert(11, peer(1002), 0);
        t.closed(a, false);
        t.closed(b, false);
        assert_eq!(t.peer(a).map(|p| p.port), Some(1001), "JavaScript may still ask after forgetting the id");
        let c = t.insert(12, peer(1003), 0);
        assert_eq!(c as u32 & SLOT_MASK, a as u32 & SLOT_MASK, "the slot free the longest is reused first");
        assert!(t.peer(a).is_none(), "a reused slot answers no more for its old connection");
        assert_eq!(t.peer(b).map(|p| p.port), Some(1002));
        assert_eq!(t.peer(c).map(|p| p.port), Some(1003));
    }

    #[test]
    fn listeners_sharing_a_total_count_each_others_connections() {
        let total = Rc::new(Cell::new(0));
        let mut a = Conns::new(total.clone());
        let mut b = Conns::new(total.clone());
        let x = a.insert(1, Peer::default(), 0);
        b.insert(2, Peer::default(), 0);
        assert_eq!((a.open, b.open, total.get()), (1, 1, 2));
        a.closed(x, false);
        assert_eq!(total.get(), 1);
    }

    #[test]
    fn ids_are_positive_and_generations_wrap() {
        let mut t = Conns::default();
        let mut last = 0;
        for fd in 0..5000 {
            let id = t.insert(fd, Peer::default(), 0);
            assert!(id >= 0);
            last = id;
            t.closed(id, false);
        }
        assert!(t.get(last).is_none());
        assert!(t.get(-1).is_none());
    }

    #[test]
    fn ids_where_lists_live_connections_only() {
        let mut t = Conns::default();
        let a = t.insert(1, Peer::default(), 5);
        let b = t.insert(2, Peer::default(), 9);
        let c = t.insert(3, Peer::default(), 1);
        t.closed(c, true);
        let mut old = t.ids_where(|c| c.since < 6);
        old.sort();
        assert_eq!(old, vec![a]);
        assert_eq!(t.ids_where(|_| true).len(), 2);
        let _ = b;
    }
}
